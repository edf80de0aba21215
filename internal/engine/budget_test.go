package engine

import (
	"context"
	"testing"
	"time"
)

// The budget bounds the bytes reserved at once: a reservation that does
// not fit waits until enough is released, and gives up with its context.
func TestByteBudget(t *testing.T) {
	b := newByteBudget(10)
	r1, err := b.acquire(context.Background(), 6)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		r, err := b.acquire(context.Background(), 6)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("12 bytes reserved out of 10")
	default:
	}
	// A reservation larger than the budget takes the whole budget (it
	// would wait forever otherwise), so it waits too.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(ctx, 100); err == nil {
		t.Fatal("a reservation of the whole budget did not wait for the bytes in use")
	}
	r1()
	r1() // releasing twice gives back once
	select {
	case r2 := <-got:
		r2()
	case <-time.After(time.Minute):
		t.Fatal("release did not wake the waiting reservation")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free != 10 {
		t.Fatalf("free %d after every release, want 10", b.free)
	}
}
