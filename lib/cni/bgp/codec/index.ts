// The BGP codec's public face: import from here.
export * from './constants';
export * from './errors';
export * from './prefix';
export * from './nlri';
export * from './capabilities';
export * from './attributes';
export * from './open';
export * from './update';
export * from './message';
export * from './framer';
