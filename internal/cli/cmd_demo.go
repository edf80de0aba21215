package cli

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/demo"
)

// newDemoServerCommand is the bundled demo MCP server (hidden: it exists for
// the README's demo and the end-to-end tests).
func newDemoServerCommand(a *app) *cobra.Command {
	var state, listen string
	cmd := &cobra.Command{
		Use:    "demo-server",
		Short:  "Run the bundled demo MCP server (stdio, or streamable HTTP with --http)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s := demo.NewServer(state, a.logger)
			go demo.Watch(ctx, s, state, 200*time.Millisecond)
			if listen == "" {
				return s.Run(ctx, &mcp.StdioTransport{})
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("demo server: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo MCP server on http://%s/mcp\n", ln.Addr())
			srv := &http.Server{
				Handler:           mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil),
				ReadHeaderTimeout: 10 * time.Second,
			}
			go func() { <-ctx.Done(); _ = srv.Close() }()
			if err := srv.Serve(ln); err != nil && ctx.Err() == nil {
				return fmt.Errorf("demo server: %w", err)
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&state, "state", ".demo/state", "file naming the variant to show (clean or rugpull)")
	cmd.Flags().StringVar(&listen, "http", "", "serve streamable HTTP on this address instead of stdio")

	set := &cobra.Command{
		Use:   "set VARIANT",
		Short: "Switch the demo server's manifest: clean or rugpull",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := demo.SetVariant(state, args[0]); err != nil {
				return usageError("%w", err)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "demo server now shows the %q manifest\n", args[0])
			return err
		},
	}
	cmd.AddCommand(set)
	return cmd
}
