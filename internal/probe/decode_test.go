package probe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// decodeSeeds are messages of every shape the probe meets, and broken ones.
var decodeSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"abc"}}`,
	`{"jsonrpc":"2.0","id":"x-1","method":"initialize","params":{}}`,
	`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
	`{"jsonrpc":"2.0","id":7,"method":""}`,
	`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"a"}],"nextCursor":"n"}}`,
	`{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no","data":{"x":1}}}`,
	`{"jsonrpc":"2.0","id":null,"result":{}}`,
	`{"jsonrpc":"1.0","id":1,"result":{}}`,
	`{"jsonrpc":"2.0","id":{},"result":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":5}`,
	`{"jsonrpc":"2.0","id":1.5,"result":null}`,
	`{"jsonrpc":"2.0","id":1,"result":{"a":"\u2028"},"extra":[1,2]}`,
	`not json`,
	`{"jsonrpc":"2.0","id":1,"result":{}`,
	`[]`,
	`null`,
	// Nesting at the SDK's limit of 1000, with brackets in a string that
	// must not count; and one level more.
	`{"jsonrpc":"2.0","id":1,"result":{"s":"[[[{{\"\\","a":` + strings.Repeat("[", 998) + strings.Repeat("]", 998) + `}}`,
	`{"jsonrpc":"2.0","id":1,"result":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
}

// TestDecodeMessageMatchesSDK holds decodeMessage to the SDK's own decoder:
// the probe records what the SDK would have understood.
func TestDecodeMessageMatchesSDK(t *testing.T) {
	for _, s := range decodeSeeds {
		t.Run(s, func(t *testing.T) { compareDecoders(t, []byte(s)) })
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(compareDecoders)
}

func compareDecoders(t *testing.T, data []byte) {
	got, err := decodeMessage(data)
	if !json.Valid(data) {
		// Stricter than the SDK, which reads the first value and ignores
		// what follows: a capture is never made of half a message.
		if err == nil {
			t.Fatalf("decodeMessage(%q) accepted invalid JSON", data)
		}
		return
	}
	want, wantErr := jsonrpc.DecodeMessage(data)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeMessage(%q) error = %v, SDK error = %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	w, errW := jsonrpc.EncodeMessage(want)
	g, errG := jsonrpc.EncodeMessage(got)
	if errW != nil || errG != nil {
		t.Fatalf("re-encoding: %v, %v", errW, errG)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("decodeMessage(%q) = %s\nSDK gives %s", data, g, w)
	}
}
