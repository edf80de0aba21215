package cli

import (
	"os"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/mcptest"
)

func TestMain(m *testing.M) {
	mcptest.MaybeRunChild()
	os.Exit(m.Run())
}
