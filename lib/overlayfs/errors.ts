// The error every overlayfs failure is reported with: one line naming the image, blob, layer or entry at fault.
import { BerthError } from '../util/errors';

export class ImageError extends BerthError {
  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'ImageError';
  }
}
