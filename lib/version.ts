/**
 * The version of supervisor-ts, shared by the server, the client and the protocol.
 *
 * @module
 */
export const VERSION = "0.1.0";

/** The protocol version spoken in `v` of every v2 request. */
export const PROTOCOL_VERSION = 2;

/** The port supervisor-rs always used, and our default. */
export const DEFAULT_PORT = 33889;
