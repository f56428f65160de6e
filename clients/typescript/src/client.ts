import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { AgentRuntime } from "./_gen/agentruntime/v1/agent_runtime_pb.js";
import { bearerAuth } from "./auth.js";

/** The generated AgentRuntime client: one promise-returning method per RPC, async iterables for streams. */
export type AgentRuntimeClient = Client<typeof AgentRuntime>;

export interface ClientOptions {
  /** "host:port" of the runtime's gRPC API, as `agent-runtime serve` prints it (plaintext HTTP/2). */
  address?: string;
  /** Or a full URL, such as "https://runtime.example.com" behind TLS; wins over `address`. */
  baseUrl?: string;
  apiKey: string;
  /** Anything else createGrpcTransport takes (TLS, keep-alive, timeouts, more interceptors). */
  transport?: Partial<Omit<GrpcTransportOptions, "baseUrl">>;
}

/** A client of one runtime over the gRPC protocol, so it talks to the Python server as any gRPC stub does. */
export function createAgentRuntimeClient(options: ClientOptions): AgentRuntimeClient {
  const baseUrl = options.baseUrl ?? (options.address ? `http://${options.address}` : undefined);
  if (!baseUrl) {
    throw new Error("createAgentRuntimeClient needs an address or a baseUrl");
  }
  const transport = createGrpcTransport({
    ...options.transport,
    baseUrl,
    interceptors: [bearerAuth(options.apiKey), ...(options.transport?.interceptors ?? [])],
  });
  return createClient(AgentRuntime, transport);
}
