// The standard gRPC health service (grpc.health.v1.Health/Check), which the runtime polls to know whether
// its storage is up. Its two messages are described here rather than generated: the contract does not
// include health.proto, and Check is all a client needs.
import { create, createFileRegistry, type DescMethodUnary, type DescMessage } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";

const SERVING = 1; // HealthCheckResponse.ServingStatus.SERVING

const healthProto = create(FileDescriptorProtoSchema, {
  name: "grpc/health/v1/health.proto",
  package: "grpc.health.v1",
  syntax: "proto3",
  messageType: [
    {
      name: "HealthCheckRequest",
      field: [{ name: "service", jsonName: "service", number: 1, type: Type.STRING, label: Label.OPTIONAL }],
    },
    {
      name: "HealthCheckResponse",
      field: [
        {
          name: "status",
          jsonName: "status",
          number: 1,
          type: Type.ENUM,
          typeName: ".grpc.health.v1.HealthCheckResponse.ServingStatus",
          label: Label.OPTIONAL,
        },
      ],
      enumType: [
        {
          name: "ServingStatus",
          value: ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"].map((name, number) => ({ name, number })),
        },
      ],
    },
  ],
  service: [
    {
      name: "Health",
      method: [
        {
          name: "Check",
          inputType: ".grpc.health.v1.HealthCheckRequest",
          outputType: ".grpc.health.v1.HealthCheckResponse",
        },
      ],
    },
  ],
});

const health = createFileRegistry(healthProto, () => undefined).getService("grpc.health.v1.Health");
const check = health?.method.check as DescMethodUnary<DescMessage, DescMessage>;

/** Serves Check: SERVING for the whole server ("") and for each of `services`, NOT_FOUND for any other. */
export function addHealth(router: ConnectRouter, services: string[]): void {
  router.rpc(check, (request) => {
    const service = (request as unknown as { service: string }).service;
    if (service && !services.includes(service)) throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    return create(check.output, { status: SERVING });
  });
}
