import { test } from "node:test";
import type { StreamControl } from "../src/protocol.gen";
import assert from "node:assert/strict";
import { REVOKED, SPENT, StreamSocket, type StreamLink } from "../src/lib/stream-socket";
import { FakeClock, FakeRelaySocket } from "./helpers";

const JOINED: StreamControl = { type: "joined", stream: "s1", capability: "cobrowse", role: "publisher" };

function setup() {
  const clock = new FakeClock();
  const sockets: FakeRelaySocket[] = [];
  const controls: StreamControl[] = [];
  const frames: number[][] = [];
  const links: StreamLink[] = [];
  let tokenAsks = 0;
  const stream = new StreamSocket({
    url: (t) => `ws://relay/ws/stream?token=${t}`,
    needToken: () => tokenAsks++,
    onControl: (c) => controls.push(c),
    onFrame: (f) => frames.push(Array.from(f)),
    onLink: (l) => links.push(l),
    createSocket: (url) => {
      const s = new FakeRelaySocket(url);
      sockets.push(s);
      return s;
    },
    timers: clock,
    maxBuffered: 100,
  });
  return { clock, sockets, controls, frames, links, stream, asks: () => tokenAsks };
}

test("a stream opens with its token and is open once the relay says joined", () => {
  const t = setup();
  t.stream.open("tok1");
  assert.equal(t.sockets[0].url, "ws://relay/ws/stream?token=tok1");
  assert.equal(t.sockets[0].binaryType, "arraybuffer");
  assert.equal(t.stream.send(new Uint8Array([1])), false, "nothing goes out before joined");
  t.sockets[0].control(JOINED);
  assert.equal(t.stream.isOpen, true);
  assert.equal(t.stream.send(new Uint8Array([1, 2])), true);
  assert.deepEqual(t.sockets[0].sent, [new Uint8Array([1, 2])]);
  t.sockets[0].control({ type: "snapshot_needed" });
  t.sockets[0].frame(new Uint8Array([9, 8]));
  assert.deepEqual(
    t.controls.map((c) => c.type),
    ["joined", "snapshot_needed"],
  );
  assert.deepEqual(t.frames, [[9, 8]]);
});

test("a lost socket asks for a fresh token after a backoff, and reopens with it", () => {
  const t = setup();
  t.stream.open("tok1");
  t.sockets[0].control(JOINED);
  t.sockets[0].serverClose(1006);
  assert.equal(t.stream.state, "waiting");
  assert.equal(t.asks(), 0, "not at once");
  t.clock.advance(10_000);
  assert.equal(t.asks(), 1);
  t.stream.open("tok2");
  assert.equal(t.sockets.length, 2);
  assert.match(t.sockets[1].url, /tok2$/);
});

for (const [code, why] of [[REVOKED, "a revocation (4403)"], [SPENT, "a stream that has sent all it may (4413)"]] as const) test(`${why} ends the stream for good`, () => {
  const t = setup();
  t.stream.open("tok1");
  t.sockets[0].control(JOINED);
  t.sockets[0].serverClose(code);
  assert.equal(t.stream.state, "ended");
  t.clock.advance(60_000);
  assert.equal(t.asks(), 0);
  t.stream.open("tok2");
  assert.equal(t.sockets.length, 1, "an ended stream opens nothing");
  assert.equal(t.links[t.links.length - 1], "ended");
});

test("a socket too far behind refuses frames instead of buffering them", () => {
  const t = setup();
  t.stream.open("tok1");
  t.sockets[0].control(JOINED);
  t.sockets[0].bufferedAmount = 101;
  assert.equal(t.stream.send(new Uint8Array([1])), false);
  t.sockets[0].bufferedAmount = 0;
  assert.equal(t.stream.send(new Uint8Array([1])), true);
});

test("close ends the stream and closes its socket; a late event of the old socket is ignored", () => {
  const t = setup();
  t.stream.open("tok1");
  const old = t.sockets[0];
  old.control(JOINED);
  t.stream.open("tok2");
  assert.equal(old.closed, true, "a new token replaces the socket");
  old.onmessage = null;
  t.stream.close();
  assert.equal(t.sockets[1].closed, true);
  assert.equal(t.stream.state, "ended");
});
