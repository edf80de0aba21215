//go:build !linux

package sandbox

import (
	"errors"
	"os"
)

func supported() error { return errors.New("bubblewrap needs Linux") }

func argsFile([]string) (*os.File, error) { return nil, errors.New("bubblewrap needs Linux") }
