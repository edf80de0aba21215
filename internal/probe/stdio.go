package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/mcpdrift/mcpdrift/internal/reaper"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"
)

// Process teardown timings. The grace is also capped by what is left of
// the probe's deadline plus closeGrace.
const (
	stdinGrace    = 200 * time.Millisecond // after closing stdin, before SIGTERM
	termGrace     = time.Second            // after SIGTERM, before SIGKILL
	killWait      = 5 * time.Second        // after SIGKILL, before giving up on reaping
	stderrDrain   = 200 * time.Millisecond // for the last stderr bytes after exit
	exitCheckWait = time.Second            // for a process whose stdout closed to exit
)

// process is one stdio server, started in a session (and so a process
// group) of its own so that everything it spawns (npx -> node, uvx ->
// python) is killed with it, and so that it has no controlling terminal to
// type into. Under the sandbox (internal/sandbox) the leader is bwrap, and
// its PID namespace also ends whatever left the group.
//
// The leader is never reaped before the whole group has been sent SIGKILL:
// while it is an unreaped zombie its pid, which is the group id, cannot be
// reused, so the group kill cannot hit an unrelated process.
type process struct {
	cmd    *exec.Cmd
	pid    int
	exe    string            // the server's executable, as resolved (not bwrap)
	env    map[string]string // the server's whole environment
	launch *sandbox.Launch
	stdin  *os.File // our end of the server's stdin
	stdout *os.File // our end of the server's stdout
	errR   *os.File // our end of the server's stderr
	stderr *ring
	log    *slog.Logger

	exited     chan struct{} // closed when the leader has exited (still unreaped)
	stderrDone chan struct{} // closed when stderr reached EOF

	stopOnce sync.Once
	stopped  chan struct{}
	state    *os.ProcessState // set by stop once reaped
}

func startProcess(t Target, log *slog.Logger) (*process, error) {
	// The target's own PATH decides which executable runs (exec would look
	// in mcpdrift's), and the identity records that same file.
	exe, err := resolveCommand(t)
	if err != nil {
		return nil, err
	}
	launch, err := sandbox.Prepare(sandbox.Command{Path: exe, Args: t.Args, Env: t.Env, Dir: t.Dir}, t.Sandbox, log)
	if err != nil {
		return nil, err
	}
	proc, err := startLaunch(launch, log, t.Limits.MaxStderrBytes)
	if err != nil {
		_ = launch.Close()
		return nil, err
	}
	proc.exe = exe
	return proc, nil
}

func startLaunch(launch *sandbox.Launch, log *slog.Logger, maxStderr int64) (*process, error) {
	cmd := exec.Command(launch.Path, launch.Args...)
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	cmd.Dir = launch.Dir
	cmd.Env = launch.Env
	cmd.ExtraFiles = launch.Files
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}

	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	inR, inW, err := pipe()
	if err != nil {
		return nil, fmt.Errorf("creating stdin pipe: %w", err)
	}
	outR, outW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("creating stdout pipe: %w", err)
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("creating stderr pipe: %w", err)
	}
	// *os.File values are handed to the child as they are: exec starts no
	// copying goroutines and Wait never touches our ends.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	if err := reaper.Start(cmd); err != nil {
		closeAll()
		return nil, err
	}
	launch.Started()
	_ = inR.Close()
	_ = outW.Close()
	_ = errW.Close()

	env := make(map[string]string, len(launch.Env))
	for _, kv := range launch.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	p := &process{
		cmd:        cmd,
		pid:        cmd.Process.Pid,
		env:        env,
		launch:     launch,
		stdin:      inW,
		stdout:     outR,
		errR:       errR,
		stderr:     newRing(int(maxStderr)),
		log:        log,
		exited:     make(chan struct{}),
		stderrDone: make(chan struct{}),
		stopped:    make(chan struct{}),
	}
	go p.watchExit()
	go func() {
		defer close(p.stderrDone)
		_, _ = io.Copy(p.stderr, errR)
	}()
	log.Debug("server process started", "pid", p.pid, "sandboxed", launch.Sandboxed)
	return p, nil
}

// target is t as the server sees it: with its whole environment.
func (p *process) target(t Target) Target {
	t.Env = p.env
	return t
}

// watchExit waits for the leader to exit without reaping it (WNOWAIT).
func (p *process) watchExit() {
	defer close(p.exited)
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// stop ends the server: stdin closed (the spec's polite request), SIGTERM
// to the whole group, a grace period, SIGKILL to the whole group, reap.
// It is idempotent and safe to call from several goroutines; every caller
// returns once the process is reaped or given up on.
func (p *process) stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		defer close(p.stopped)
		_ = p.stdin.Close()
		leaderGone := waitFor(p.exited, min(grace, stdinGrace))
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
		if leaderGone {
			// Give the rest of the group (which we cannot wait for) a moment.
			waitFor(nil, min(grace, stdinGrace)/2)
		} else {
			waitFor(p.exited, min(grace, termGrace))
		}
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		if !waitFor(p.exited, killWait) {
			p.log.Error("server process did not die after SIGKILL; leaving it", "pid", p.pid)
			go func() {
				_ = p.cmd.Wait()
				reaper.Done(p.pid)
				p.closeLaunch()
			}()
		} else {
			_ = p.cmd.Wait()
			reaper.Done(p.pid)
			p.state = p.cmd.ProcessState
			p.closeLaunch()
		}
		// Every writer of stderr is dead unless something left the group.
		waitFor(p.stderrDone, stderrDrain)
		_ = p.errR.Close()
		_ = p.stdout.Close()
		p.log.Debug("server process stopped", "pid", p.pid, "status", p.status())
	})
	<-p.stopped
}

// closeLaunch removes what the launch made (a temporary HOME) once the
// server is gone.
func (p *process) closeLaunch() {
	if err := p.launch.Close(); err != nil {
		p.log.Warn("cleaning up after the server process", "error", err.Error())
	}
}

// status describes how the process ended, once stopped.
func (p *process) status() string {
	if p.state == nil {
		return "unknown status"
	}
	return p.state.String()
}

// stderrTail returns the escaped end of the server's stderr, without the
// secrets r knows. The whole buffer is redacted, terminal escapes removed
// first, before the tail is cut: a secret split by the cut or by an escape
// sequence would otherwise get past the redactor.
func (p *process) stderrTail(r *redact.Redactor) string {
	return terminalTail([]byte(r.Replace(stripANSI(string(p.stderr.Bytes())))), stderrTailBytes)
}

// waitFor waits for ch to close (never, for a nil ch) for at most d.
func waitFor(ch <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// stdioTransport is an mcp.Transport over a started process's pipes with
// a bounded line reader: no line longer than max_response_bytes is ever
// held in memory.
type stdioTransport struct {
	proc  *process
	rec   *recorder
	limit int64
}

func (t *stdioTransport) Connect(context.Context) (mcp.Connection, error) {
	c := &stdioConn{
		proc:     t.proc,
		rec:      t.rec,
		limit:    t.limit,
		incoming: make(chan jsonrpc.Message),
		readDone: make(chan struct{}),
		closed:   make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

type stdioConn struct {
	proc  *process
	rec   *recorder
	limit int64

	wmu sync.Mutex

	incoming chan jsonrpc.Message
	readErr  error // set before readDone is closed
	readDone chan struct{}

	closeOnce sync.Once
	closed    chan struct{}
}

var _ mcp.Connection = (*stdioConn)(nil)

func (c *stdioConn) readLoop() {
	defer close(c.readDone)
	br := bufio.NewReaderSize(c.proc.stdout, 64<<10)
	for {
		line, err := readLine(br, c.limit)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				err = c.rec.fail(err)
			}
			c.readErr = err
			return
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		msgs, err := decodeMessages(line)
		if err != nil {
			c.readErr = c.rec.fail(newKindError(ErrProtocol,
				"server sent a line that is not JSON-RPC: %s", excerpt(line, 80)))
			return
		}
		for _, m := range msgs {
			forward, _, err := c.rec.receive(m)
			if err != nil {
				c.readErr = err
				return
			}
			if !forward {
				continue
			}
			select {
			case c.incoming <- m:
			case <-c.closed:
				c.readErr = io.EOF
				return
			}
		}
	}
}

func (c *stdioConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case m := <-c.incoming:
		return m, nil
	case <-c.readDone:
		return nil, c.readErr
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *stdioConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.rec.send(msg); err != nil {
		return err
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encoding message: %w", err)
	}
	data = append(data, '\n')
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.closed:
		return io.ErrClosedPipe
	default:
	}
	_, err = c.proc.stdin.Write(data)
	return err
}

// Close closes the server's stdin, which asks it to exit; process.stop
// does the rest.
func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		_ = c.proc.stdin.Close()
	})
	return nil
}

func (c *stdioConn) SessionID() string { return "" }

// readLine reads one newline-terminated line of at most limit bytes (plus
// the newline). A longer line fails as soon as it crosses the limit, having
// held at most limit bytes.
//
// A line that fits in br's buffer is returned without copying: it is only
// valid until the next read from br.
func readLine(br *bufio.Reader, limit int64) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if int64(len(line))+int64(len(chunk)) > limit+1 {
			return nil, errResponseTooLarge(limit)
		}
		if line == nil && len(chunk) > 0 && (err == nil || errors.Is(err, io.EOF)) {
			return chunk, nil
		}
		line = appendCapped(line, chunk, limit+1)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

// appendCapped appends b to buf, growing it geometrically but never past
// max bytes of capacity, so a line near the limit costs one limit-sized
// allocation rather than a doubling past it.
func appendCapped(buf, b []byte, max int64) []byte {
	need := len(buf) + len(b)
	if need > cap(buf) {
		newCap := max64(int64(2*cap(buf)), int64(need))
		if newCap > max {
			newCap = max
		}
		if newCap < int64(need) {
			newCap = int64(need)
		}
		nb := make([]byte, len(buf), newCap)
		copy(nb, buf)
		buf = nb
	}
	return append(buf, b...)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// decodeMessages decodes one JSON-RPC message or a batch of them.
func decodeMessages(data []byte) ([]jsonrpc.Message, error) {
	if data[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, err
		}
		if len(raws) == 0 {
			return nil, errors.New("empty batch")
		}
		msgs := make([]jsonrpc.Message, 0, len(raws))
		for _, raw := range raws {
			m, err := decodeMessage(raw)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		return msgs, nil
	}
	m, err := decodeMessage(data)
	if err != nil {
		return nil, err
	}
	return []jsonrpc.Message{m}, nil
}

// wireMessage is a JSON-RPC message as sent. Method stays raw so that a
// method key with an empty value still makes a request.
type wireMessage struct {
	Version string          `json:"jsonrpc"`
	ID      any             `json:"id"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *jsonrpc.Error  `json:"error"`
}

// decodeMessage decodes one message as the SDK's jsonrpc.DecodeMessage
// does, with the same parser and options (segmentio/encoding, keys matched
// exactly, at most maxNesting levels), but without its decoder, which
// allocates 64 KiB per message. It is stricter in one way: anything after
// the message is an error, where the SDK ignores it.
func decodeMessage(data []byte) (jsonrpc.Message, error) {
	if nestedDeeperThan(data, maxNesting) {
		return nil, fmt.Errorf("unmarshaling jsonrpc message: nested deeper than %d levels", maxNesting)
	}
	var w wireMessage
	rest, err := segjson.Parse(data, &w, segjson.DontMatchCaseInsensitiveStructFields)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		err = errors.New("data after the message")
	}
	if err != nil {
		return nil, fmt.Errorf("unmarshaling jsonrpc message: %w", err)
	}
	if w.Version != "2.0" {
		return nil, fmt.Errorf("invalid message version tag %q; expected \"2.0\"", w.Version)
	}
	id, err := jsonrpc.MakeID(w.ID)
	if err != nil {
		return nil, err
	}
	if len(w.Method) > 0 {
		var method string
		if _, err := segjson.Parse(w.Method, &method, 0); err != nil {
			return nil, fmt.Errorf("unmarshaling jsonrpc message: %w", err)
		}
		return &jsonrpc.Request{ID: id, Method: method, Params: w.Params}, nil
	}
	if !id.IsValid() {
		return nil, errors.New("invalid request: a response without an id")
	}
	resp := &jsonrpc.Response{ID: id, Result: w.Result}
	if w.Error != nil {
		resp.Error = w.Error
	}
	return resp, nil
}

// maxNesting is the SDK's bound on how deep a message may nest: a
// hostile depth must not cost the canonicalization that follows.
const maxNesting = 1000

// nestedDeeperThan reports whether the arrays and objects in data nest
// deeper than limit, skipping strings.
func nestedDeeperThan(data []byte, limit int) bool {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		switch {
		case inString && escaped:
			escaped = false
		case inString:
			escaped = b == '\\'
			inString = b != '"'
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			if depth > limit {
				return true
			}
		case b == '}' || b == ']':
			depth = max(0, depth-1)
		}
	}
	return false
}

// ring keeps the last max bytes written to it.
type ring struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newRing(max int) *ring { return &ring{max: max} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	if r.max <= 0 {
		return n, nil
	}
	if len(p) >= r.max {
		r.buf = append(r.buf[:0], p[len(p)-r.max:]...)
		return n, nil
	}
	if over := len(r.buf) + len(p) - r.max; over > 0 {
		r.buf = r.buf[:copy(r.buf, r.buf[over:])]
	}
	r.buf = append(r.buf, p...)
	return n, nil
}

func (r *ring) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf)
}
