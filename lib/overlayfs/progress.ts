// A one-line progress meter for terminals; nothing at all when stderr is a pipe or a file.

export function terminalProgress(stream: NodeJS.WritableStream): { update: (done: number, total: number) => void; end: () => void } | undefined {
  if (!(stream as { isTTY?: boolean }).isTTY) return undefined;
  let last = -1;
  let shown = false;
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  return {
    update(done, total) {
      const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
      if (pct === last) return; // redraw at most 100 times
      last = pct;
      shown = true;
      stream.write(`\rimporting: ${pct}% (${mb(done)}/${mb(total)} MB)`);
    },
    end() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
