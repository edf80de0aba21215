package probe

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// captureTransport wraps a message-level transport (stdio, in-memory or any
// other mcp.Transport whose Connection may be wrapped) so that every message
// passes through the recorder. It must not be used for streamable HTTP:
// wrapping that Connection breaks the session; see httpCapture.
type captureTransport struct {
	inner mcp.Transport
	rec   *recorder
}

func (t *captureTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &captureConn{inner: c, rec: t.rec}, nil
}

type captureConn struct {
	inner mcp.Connection
	rec   *recorder
}

var _ mcp.Connection = (*captureConn)(nil)

func (c *captureConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	for {
		msg, err := c.inner.Read(ctx)
		if err != nil {
			return nil, err
		}
		forward, _, err := c.rec.receive(msg)
		if err != nil {
			return nil, err
		}
		if forward {
			return msg, nil
		}
	}
}

func (c *captureConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := c.rec.send(msg); err != nil {
		return err
	}
	return c.inner.Write(ctx, msg)
}

func (c *captureConn) Close() error      { return c.inner.Close() }
func (c *captureConn) SessionID() string { return c.inner.SessionID() }
