/* global WebSocket, setTimeout, clearTimeout */
import { streamUrl } from './api.js';

const terminalStatuses = new Set(['completed', 'failed', 'cancelled', 'diverged']);
/** Close code of a stream whose run has finished (src/api/routes/run-stream.ts). */
const runFinishedCloseCode = 1000;
const firstRetryMs = 500;
const longestRetryMs = 10_000;

/**
 * Follows one run's events over its WebSocket. It remembers the seq of the last event it
 * handed on; when the socket drops it reconnects with `?after=<seq>`, and the server replays
 * exactly the events in between. It stops for good once the run reaches a final status.
 *
 * `onState` hears 'connecting', 'live', 'retrying' (with the delay in ms), 'finished' and
 * 'closed'.
 */
export class RunStream {
  constructor(runId, { onEvent, onState }) {
    this.runId = runId;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastSeq = undefined;
    this.retryMs = firstRetryMs;
    this.socket = undefined;
    this.retryTimer = undefined;
    this.stopped = false;
  }

  start() {
    this.connect();
  }

  /** Closes the socket and gives up reconnecting. */
  close(state = 'closed') {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.onState(state);
  }

  connect() {
    this.onState('connecting');
    const socket = new WebSocket(streamUrl(this.runId, this.lastSeq));
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = firstRetryMs;
      this.onState('live');
    });
    socket.addEventListener('message', (message) => this.receive(message.data));
    socket.addEventListener('close', (event) => {
      if (this.stopped || socket !== this.socket) return;
      // 1000 is the server's word that the run is over, even when the final event had expired.
      if (event.code === runFinishedCloseCode) this.close('finished');
      else this.scheduleRetry();
    });
  }

  receive(data) {
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof event?.seq !== 'string' || typeof event.kind !== 'string') return;
    this.lastSeq = event.seq;
    this.onEvent(event);
    if (event.kind === 'status' && terminalStatuses.has(event.status)) this.close('finished');
  }

  scheduleRetry() {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, longestRetryMs);
    this.onState('retrying', delay);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
