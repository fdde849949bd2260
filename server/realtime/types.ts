import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '#shared/events.js';
import type { PresenceMessages } from './presence-peers.js';

// The Socket.IO types every realtime module shares, declared once here (not in hub.ts or
// socket-auth.ts) so that the modules the hub is made of can name them without importing the hub.

/** The Socket.IO server: the contract's events, presence messages between processes, `SocketData`. */
export type PulseServer = Server<ClientToServerEvents, ServerToClientEvents, PresenceMessages, SocketData>;

/** One client's socket on `PulseServer`. */
export type PulseSocket = Socket<ClientToServerEvents, ServerToClientEvents, PresenceMessages, SocketData>;

export type { PresenceMessages, SocketData };
