//go:build !linux

package reaper

import (
	"context"
	"errors"
	"log/slog"
)

func setSubreaper(bool) error { return errors.New("child subreapers need Linux") }

func loop(context.Context, *slog.Logger) {}
