/**
 * Incremental decoder for HTTP/1.1 `Transfer-Encoding: chunked` bodies (both servers stream SSE
 * without Content-Length). Emits body slices as they arrive; reports the terminal chunk.
 */
export class ChunkedDecoder {
  private state: "size" | "data" | "crlf" | "done" = "size";
  private sizeLine = "";
  private remaining = 0;

  get done(): boolean {
    return this.state === "done";
  }

  push(buf: Buffer, emit: (body: Buffer) => void): void {
    let i = 0;
    while (i < buf.length && this.state !== "done") {
      if (this.state === "size") {
        const nl = buf.indexOf(10, i);
        if (nl === -1) {
          this.sizeLine += buf.toString("latin1", i);
          return;
        }
        this.sizeLine += buf.toString("latin1", i, nl);
        i = nl + 1;
        const size = Number.parseInt(this.sizeLine, 16); // stops at "\r" or a ";extension"
        this.sizeLine = "";
        if (!Number.isFinite(size) || size < 0) throw new Error("malformed chunk size");
        if (size === 0) this.state = "done";
        else {
          this.remaining = size;
          this.state = "data";
        }
      } else if (this.state === "data") {
        const take = Math.min(this.remaining, buf.length - i);
        emit(buf.subarray(i, i + take));
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = "crlf";
      } else {
        const nl = buf.indexOf(10, i);
        if (nl === -1) return;
        i = nl + 1;
        this.state = "size";
      }
    }
  }
}
