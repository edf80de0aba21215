//go:build race

package engine_test

// raceEnabled: the race detector is on (tests scale their size down).
const raceEnabled = true
