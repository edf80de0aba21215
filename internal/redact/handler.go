package redact

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
)

// Live holds the Redactor of the configuration in use. The CLI and the
// daemon create one before any configuration is loaded, give it to their
// log handler, and store a new Redactor whenever a configuration is
// (re)loaded. A nil *Live holds nothing.
type Live struct{ p atomic.Pointer[Redactor] }

// NewLive returns a Live holding r.
func NewLive(r *Redactor) *Live {
	l := &Live{}
	l.Store(r)
	return l
}

// Load returns the current Redactor, or nil.
func (l *Live) Load() *Redactor {
	if l == nil {
		return nil
	}
	return l.p.Load()
}

// Store makes r the current Redactor; on a nil *Live it does nothing.
func (l *Live) Store(r *Redactor) {
	if l != nil {
		l.p.Store(r)
	}
}

// NewHandler returns a handler that passes every record to inner with its
// message and attribute values (those given to With included) redacted by
// the Redactor src returns at that moment, so secrets loaded after the
// logger was built are still hidden.
func NewHandler(inner slog.Handler, src func() *Redactor) slog.Handler {
	return &handler{root: inner, src: src, cache: &atomic.Pointer[built]{}}
}

// handler keeps the attributes and groups given to With unredacted and
// applies them to root, redacted, once per Redactor.
type handler struct {
	root  slog.Handler
	ops   []op
	src   func() *Redactor
	cache *atomic.Pointer[built]
}

// op is one WithAttrs (attrs set) or WithGroup call.
type op struct {
	group string
	attrs []slog.Attr
}

// built is root with the ops applied, redacted by r.
type built struct {
	r *Redactor
	h slog.Handler
}

func (h *handler) current() (*Redactor, slog.Handler) {
	var r *Redactor
	if h.src != nil {
		r = h.src()
	}
	if b := h.cache.Load(); b != nil && b.r == r {
		return r, b.h
	}
	in := h.root
	for _, o := range h.ops {
		if o.attrs != nil {
			in = in.WithAttrs(redactAttrs(r, o.attrs))
		} else {
			in = in.WithGroup(o.group)
		}
	}
	h.cache.Store(&built{r: r, h: in})
	return r, in
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	_, in := h.current()
	return in.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	r, in := h.current()
	if r.Empty() {
		return in.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, r.Replace(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(r, a))
		return true
	})
	return in.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(op{attrs: slices.Clone(attrs)})
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(op{group: name})
}

func (h *handler) with(o op) *handler {
	return &handler{root: h.root, ops: append(slices.Clip(h.ops), o), src: h.src, cache: &atomic.Pointer[built]{}}
}

func redactAttrs(r *Redactor, attrs []slog.Attr) []slog.Attr {
	if r.Empty() {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactAttr(r, a)
	}
	return out
}

// redactAttr redacts a string, an error, a group's members, and any other
// value whose printed form holds a secret (which is then logged as that
// printed form, redacted).
func redactAttr(r *Redactor, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.Replace(v.String()))
	case slog.KindGroup:
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(redactAttrs(r, v.Group())...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, r.Replace(x.Error()))
		case []byte:
			if s := string(x); r.Contains(s) {
				return slog.String(a.Key, r.Replace(s))
			}
		default:
			if s := fmt.Sprint(x); r.Contains(s) {
				return slog.String(a.Key, r.Replace(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
