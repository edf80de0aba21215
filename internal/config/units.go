package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ByteSize is a number of bytes. In YAML it is a plain integer or an integer
// with a KiB, MiB or GiB suffix (binary multiples, "16MiB").
type ByteSize int64

// Binary size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

var sizeUnits = []struct {
	suffix string
	mult   ByteSize
}{{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}}

// ParseByteSize reads a size such as "1048576", "64KiB" or "16 MiB".
func ParseByteSize(s string) (ByteSize, error) {
	num, mult := strings.TrimSpace(s), ByteSize(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, errors.New("use a byte count or a KiB, MiB or GiB suffix")
	}
	if n > math.MaxInt64/int64(mult) || n < math.MinInt64/int64(mult) {
		return 0, errors.New("out of range")
	}
	return ByteSize(n) * mult, nil
}

// String renders the size with the largest unit that divides it exactly.
func (b ByteSize) String() string {
	for _, u := range sizeUnits {
		if b != 0 && b%u.mult == 0 {
			return strconv.FormatInt(int64(b/u.mult), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// formatDuration is time.Duration.String without the trailing zero units,
// so 24h prints as "24h", not "24h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseSchedule parses a schedule the way the config validates it, so the
// scheduler accepts exactly what `config check` accepted: standard five-field
// cron specs, descriptors such as "@hourly" and "@every 5m", and a CRON_TZ=
// or TZ= prefix.
func ParseSchedule(spec string) (cron.Schedule, error) {
	// cron v3.0.1 slices out of range on a time zone prefix with nothing after it.
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.Contains(spec, " ") {
			return nil, errors.New("time zone prefix without a schedule")
		}
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return nil, fmt.Errorf("invalid @every duration %s", quoteText(rest))
		}
		if d < time.Second {
			return nil, errors.New("@every needs a duration of at least 1s")
		}
	}
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	s, err := p.Parse(spec)
	if err != nil {
		return nil, errors.New(printable(err.Error()))
	}
	return s, nil
}
