// Command agent-runtime-go calls a running agent-runtime with the generated Go client and prints one JSON
// object per result, so that a script (or tests/integration/test_go_client.py) can check them.
//
// It reads AGENT_RUNTIME_GRPC_ADDRESS (host:port, default 127.0.0.1:50051) and AGENT_RUNTIME_API_KEY, as
// the Python CLI does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	agentruntimev1 "agentruntime/gen/agentruntime/v1"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// A UUID no runtime hands out (version 4 with all random bits zero), for the call that must fail.
const unknownSession = "00000000-0000-4000-8000-000000000000"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agent-runtime-go:", err)
		os.Exit(1)
	}
}

func run() error {
	address, key := os.Getenv("AGENT_RUNTIME_GRPC_ADDRESS"), os.Getenv("AGENT_RUNTIME_API_KEY")
	if address == "" {
		address = "127.0.0.1:50051"
	}
	if key == "" {
		return errors.New("set AGENT_RUNTIME_API_KEY")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	// grpc-go 1.33 (Debian's) predates credentials/insecure; WithInsecure is its plaintext option.
	conn, err := grpc.DialContext(ctx, address, grpc.WithInsecure())
	if err != nil {
		return err
	}
	defer conn.Close()
	client := agentruntimev1.NewAgentRuntimeClient(conn)

	profiles, err := client.ListAgentProfiles(ctx, &agentruntimev1.ListAgentProfilesRequest{})
	if err != nil {
		return fmt.Errorf("ListAgentProfiles: %w", err)
	}
	ids := []string{}
	for _, profile := range profiles.GetProfiles() {
		ids = append(ids, profile.GetId())
	}
	emit(map[string]any{"call": "ListAgentProfiles", "profile_ids": ids})

	created, err := client.CreateSession(ctx, &agentruntimev1.CreateSessionRequest{
		AgentProfileRef: "default", Architecture: "anthropic", Name: "From Go",
	})
	if err != nil {
		return fmt.Errorf("CreateSession: %w", err)
	}
	emit(map[string]any{"call": "CreateSession", "session_id": created.GetSessionId()})

	found, err := client.GetSession(ctx, &agentruntimev1.GetSessionRequest{SessionId: created.GetSessionId()})
	if err != nil {
		return fmt.Errorf("GetSession: %w", err)
	}
	emit(map[string]any{
		"call": "GetSession", "session_id": found.GetSessionId(), "name": found.GetName(),
		"architecture": found.GetArchitecture(), "agent_profile_ref": found.GetAgentProfileRef(),
	})

	// Changing the options records an event, so the stream below has one to decode.
	_, err = client.UpdateSession(ctx, &agentruntimev1.UpdateSessionRequest{
		SessionId: created.GetSessionId(),
		Session: &agentruntimev1.Session{SessionOptions: &agentruntimev1.SessionOptions{
			ArchitectureOptions: &agentruntimev1.SessionOptions_Anthropic{
				Anthropic: &agentruntimev1.AnthropicOptions{MaxTokens: 2048},
			},
		}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"session_options"}},
	})
	if err != nil {
		return fmt.Errorf("UpdateSession: %w", err)
	}

	if err := streamEvents(ctx, client, created.GetSessionId()); err != nil {
		return fmt.Errorf("StreamSessionEvents: %w", err)
	}

	_, err = client.GetSession(ctx, &agentruntimev1.GetSessionRequest{SessionId: unknownSession})
	if err == nil {
		return errors.New("GetSession of an unknown session succeeded")
	}
	emit(describeError("GetSession", err))
	return nil
}

// streamEvents prints the session's stored events (follow=false: the stream ends at the head).
func streamEvents(ctx context.Context, client agentruntimev1.AgentRuntimeClient, sessionID string) error {
	stream, err := client.StreamSessionEvents(ctx, &agentruntimev1.StreamSessionEventsRequest{SessionId: sessionID})
	if err != nil {
		return err
	}
	count := 0
	for {
		response, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		event := response.GetEvent()
		if event == nil { // a heartbeat
			continue
		}
		count++
		// The payload's field name (status, block_start, ...) from reflection, not a switch over 15 types.
		message := event.ProtoReflect()
		payload := message.WhichOneof(message.Descriptor().Oneofs().ByName("payload"))
		name := ""
		if payload != nil {
			name = string(payload.Name())
		}
		line := map[string]any{"call": "StreamSessionEvents", "sequence": event.GetSequence(), "payload": name}
		if update := event.GetOptionsUpdate(); update != nil {
			line["max_tokens"] = update.GetSessionOptions().GetAnthropic().GetMaxTokens()
		}
		emit(line)
	}
	emit(map[string]any{"call": "StreamSessionEvents", "end": true, "events": count})
	return nil
}

// describeError gives the status code by its canonical name and the reason of the ErrorInfo detail.
func describeError(call string, err error) map[string]any {
	described := status.Convert(err)
	result := map[string]any{
		"call": call, "code": rpccode.Code(described.Code()).String(), "message": described.Message(),
	}
	for _, detail := range described.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			result["reason"], result["domain"] = info.GetReason(), info.GetDomain()
		}
	}
	return result
}

func emit(line map[string]any) {
	encoded, err := json.Marshal(line)
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	fmt.Println(string(encoded))
}
