import { createConnection, createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";

/**
 * A TCP relay in front of the runtime, so a test can drop the client's connection mid-stream as a
 * network failure would, while the runtime itself keeps running.
 */
export class TcpRelay {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  /** Connections accepted so far; a client that resumed has opened more than one. */
  connections = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.connections += 1;
      const upstream = createConnection(target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined); // a dropped connection is what the test wants
      }
      client.pipe(upstream).pipe(client);
    });
  }

  static async start(address: string): Promise<TcpRelay> {
    const [host, port] = splitAddress(address);
    const relay = new TcpRelay({ host, port });
    relay.server.listen(0, "127.0.0.1");
    await once(relay.server, "listening");
    return relay;
  }

  get address(): string {
    const bound = this.server.address();
    if (bound === null || typeof bound === "string") {
      throw new Error("the relay is not listening");
    }
    return `127.0.0.1:${bound.port}`;
  }

  /** Resets every open connection (TCP RST), as a crashed peer or a broken network does. */
  dropConnections(): void {
    for (const socket of this.sockets) {
      socket.resetAndDestroy();
    }
  }

  async close(): Promise<void> {
    this.dropConnections();
    this.server.close();
    await once(this.server, "close");
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
