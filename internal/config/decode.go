package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/suggest"
)

const (
	mergeTag = "!!merge"
	nullTag  = "!!null"

	// maxNodes bounds the nodes decoded, aliases included, so an alias bomb
	// ("billion laughs") is an error and not an hour of CPU.
	maxNodes = 1_000_000
)

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	levelType    = reflect.TypeFor[severity.Level]()
	serverType   = reflect.TypeFor[Server]()
	notifierType = reflect.TypeFor[Notifier]()
)

// Parse decodes and validates a config file's bytes. name is only used in
// problem reports. env looks up ${VAR} references (os.LookupEnv in Load).
// On failure the error is an *Error listing every problem found.
func Parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	cfg := Default()
	cfg.hash = hashBytes(data)
	d := &decoder{
		file:    name,
		env:     env,
		pos:     map[string]position{},
		failed:  map[string]bool{},
		bad:     map[*yaml.Node]bool{},
		fromEnv: map[*yaml.Node]bool{},
		budget:  maxNodes,
	}
	d.init = map[reflect.Type]func() reflect.Value{
		// Servers are decoded after defaults (config:"late"), so they start
		// from the file's defaults and override them key by key.
		serverType: func() reflect.Value {
			dflt := cfg.Defaults
			fillClient(&dflt.Client)
			return reflect.ValueOf(dflt.server())
		},
		notifierType: func() reflect.Value { return reflect.ValueOf(defaultNotifier()) },
	}
	root, ok := d.parseYAML(data)
	if ok && root != nil {
		d.expandTree(root, "")
		d.value(root, reflect.ValueOf(cfg).Elem(), "")
	}
	if ok && d.budget >= 0 {
		resolve(cfg)
		d.validate(cfg)
	}
	if len(d.problems) > 0 {
		slices.SortStableFunc(d.problems, func(a, b Problem) int { return cmp.Compare(lineKey(a.Line), lineKey(b.Line)) })
		return nil, &Error{Problems: d.problems}
	}
	cfg.lines = map[string]int{}
	for i, s := range cfg.Servers {
		cfg.lines[s.Name] = d.pos[fmt.Sprintf("servers[%d]", i)].line
	}
	cfg.private(name, env)
	return cfg, nil
}

// lineKey sorts problems without a line after those with one.
func lineKey(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the single document's root node, or nil for an empty file.
func (d *decoder) parseYAML(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		d.yamlError(err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.problem(next.Line, "", "only one YAML document is allowed")
		return nil, false
	case !errors.Is(err, io.EOF):
		d.yamlError(err)
		return nil, false
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
}

// yamlParserErrors are the syntax errors yaml reports with a 0-based line
// (its scanner errors, and the rest of the package, count from 1).
var yamlParserErrors = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found undefined tag handle",
}

func (d *decoder) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if slices.Contains(yamlParserErrors, msg) {
			line++
		}
	}
	d.problem(line, "", printable(msg))
}

// decoder walks the YAML node tree into Go values itself, rather than using
// yaml's Decode, so that every problem is reported (not just the first) with
// its key path and line, and so validation can find the line of any key.
type decoder struct {
	file     string
	env      func(string) (string, bool)
	problems []Problem
	pos      map[string]position // key path -> where its value was read
	failed   map[string]bool     // key paths already reported
	bad      map[*yaml.Node]bool // nodes whose ${VAR} expansion failed
	fromEnv  map[*yaml.Node]bool // nodes whose value came from ${VAR}
	budget   int
	init     map[reflect.Type]func() reflect.Value // initial value of new list items
}

type position struct {
	line    int
	fromEnv bool
}

func (d *decoder) problem(line int, path, msg string) {
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Path: path, Msg: msg})
	if path != "" {
		d.failed[path] = true
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// parentPath drops the last segment of a key path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// line finds the line of path, or of its nearest ancestor that was in the file.
func (d *decoder) line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if at, ok := d.pos[p]; ok {
			return at.line
		}
	}
	return 0
}

// present reports whether the file set path.
func (d *decoder) present(path string) bool {
	_, ok := d.pos[path]
	return ok
}

// quote renders a scalar for a message, unless it came from the environment,
// where it may be a secret given to the wrong key.
func (d *decoder) quote(n *yaml.Node) string {
	if d.fromEnv[n] {
		return "(value from the environment)"
	}
	return quoteText(n.Value)
}

// quoteText quotes s for a one-line message, escaping invisible characters
// and cutting it short.
func quoteText(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "..."
	}
	return strconv.Quote(s)
}

// printable escapes non-printable runes as <U+XXXX> so a message stays on one
// line and shows what is really there.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "<U+%04X>", r)
		}
	}
	return b.String()
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	used := n.Line // where the value is used, for an alias rather than its anchor
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.pos[path] = position{line: used, fromEnv: d.fromEnv[n]}
	if !d.spend(1, path) {
		return
	}
	if d.bad[n] {
		d.failed[path] = true
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == nullTag {
		return // an empty value keeps the default
	}
	switch t := v.Type(); t {
	case secretType:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.Set(reflect.ValueOf(Secret{value: s, fromEnv: d.fromEnv[n]}))
		}
		return
	case durationType:
		if s, ok := d.scalar(n, path, "a duration"); ok {
			dur, err := time.ParseDuration(s)
			if err != nil {
				d.problem(n.Line, path, fmt.Sprintf("invalid duration %s (use Go syntax such as 30s, 5m or 24h)", d.quote(n)))
				return
			}
			v.SetInt(int64(dur))
		}
		return
	case byteSizeType:
		if s, ok := d.scalar(n, path, "a size"); ok {
			b, err := ParseByteSize(s)
			if err != nil {
				d.problem(n.Line, path, fmt.Sprintf("invalid size %s (%v)", d.quote(n), err))
				return
			}
			v.SetInt(int64(b))
		}
		return
	case levelType:
		if s, ok := d.scalar(n, path, "a severity"); ok {
			l, err := severity.Parse(s)
			if err != nil {
				d.problem(n.Line, path, fmt.Sprintf("unknown severity %s (use %s)", d.quote(n), strings.Join(severity.Names(), ", ")))
				return
			}
			v.SetInt(int64(l))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Map:
		d.dict(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "true or false"); ok {
			switch strings.ToLower(s) {
			case "true", "yes", "on":
				v.SetBool(true)
			case "false", "no", "off":
				v.SetBool(false)
			default:
				d.problem(n.Line, path, fmt.Sprintf("expected true or false, got %s", d.quote(n)))
			}
		}
	case reflect.Int, reflect.Int64:
		if s, ok := d.scalar(n, path, "an integer"); ok {
			i, err := strconv.ParseInt(s, 10, v.Type().Bits())
			if err != nil {
				d.problem(n.Line, path, fmt.Sprintf("expected an integer, got %s", d.quote(n)))
				return
			}
			v.SetInt(i)
		}
	default:
		d.problem(n.Line, path, fmt.Sprintf("cannot decode into %s", v.Type()))
	}
}

// spend takes n nodes from the budget, reporting once when it runs out.
func (d *decoder) spend(n int, path string) bool {
	if d.budget < 0 {
		return false
	}
	if d.budget -= n; d.budget < 0 {
		d.problem(d.line(path), path, fmt.Sprintf("too many nodes (over %d, counting aliases and merges)", maxNodes))
		return false
	}
	return true
}

func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.problem(n.Line, path, fmt.Sprintf("expected %s, got %s", want, describe(n)))
		return "", false
	}
	return n.Value, true
}

func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.Tag == nullTag
}

type pair struct{ key, val *yaml.Node }

// pairs lists a mapping's key/value pairs with YAML merge keys ("<<: *x")
// applied: explicit keys win over merged ones. Duplicate keys are reported.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out, merged []pair
	seen := map[string]int{}
	if !d.spend(len(n.Content)/2, path) {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == mergeTag {
			merged = append(merged, d.mergeSources(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.problem(k.Line, path, fmt.Sprintf("expected a string key, got %s", describe(k)))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.problem(k.Line, joinPath(path, k.Value), fmt.Sprintf("duplicate key (first set on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, pair{k, v})
	}
	for _, p := range merged {
		if _, dup := seen[p.key.Value]; !dup {
			seen[p.key.Value] = p.key.Line
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) mergeSources(n *yaml.Node, path string) []pair {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, path)
	case yaml.SequenceNode:
		var out []pair
		for _, c := range n.Content {
			for c.Kind == yaml.AliasNode && c.Alias != nil {
				c = c.Alias
			}
			if c.Kind != yaml.MappingNode {
				d.problem(c.Line, path, "<< merges only mappings")
				continue
			}
			out = append(out, d.pairs(c, path)...)
		}
		return out
	}
	d.problem(n.Line, path, "<< merges only mappings")
	return nil
}

// field is how a struct field is spelled in YAML.
type field struct {
	index int
	key   string // the YAML key
	twin  string // key of the *_file twin of a secret field
	late  bool   // decoded after the other keys of its mapping
	reset bool   // replaced as a whole rather than merged over the default
}

func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		opts := strings.Split(sf.Tag.Get("config"), ",")
		out = append(out, field{
			index: i,
			key:   name,
			twin:  sf.Tag.Get("twin"),
			late:  slices.Contains(opts, "late"),
			reset: slices.Contains(opts, "reset"),
		})
	}
	return out
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, path, fmt.Sprintf("expected a mapping, got %s", describe(n)))
		return
	}
	fields := fieldsOf(v.Type())
	type use struct {
		f    field
		p    pair
		twin bool
	}
	var now, later []use
	for _, p := range d.pairs(n, path) {
		u, ok := use{p: p}, false
		for _, f := range fields {
			if p.key.Value == f.key || (f.twin != "" && p.key.Value == f.twin) {
				u.f, u.twin, ok = f, p.key.Value == f.twin, true
				break
			}
		}
		switch {
		case !ok:
			keys := make([]string, 0, len(fields))
			for _, f := range fields {
				keys = append(keys, f.key)
			}
			d.problem(p.key.Line, joinPath(path, p.key.Value), "unknown key"+suggest.Hint(p.key.Value, keys))
		case u.f.late || u.twin:
			// Twins go after every plain key so a conflict with the plain
			// key is found whatever the order in the file.
			later = append(later, u)
		default:
			now = append(now, u)
		}
	}
	for _, u := range append(now, later...) {
		fv := v.Field(u.f.index)
		kp := joinPath(path, u.p.key.Value)
		switch {
		case u.twin:
			d.twin(u.p, fv, kp, u.f.key)
		default:
			if u.f.reset && !isNull(u.p.val) {
				fv.Set(reflect.Zero(fv.Type()))
			}
			d.value(u.p.val, fv, kp)
		}
	}
}

// twin decodes a *_file key into the secret (or map of secrets) it stands for.
func (d *decoder) twin(p pair, fv reflect.Value, path, plain string) {
	if fv.Type() == secretType {
		var file string
		d.value(p.val, reflect.ValueOf(&file).Elem(), path)
		if file == "" {
			return
		}
		if fv.Interface().(Secret).IsSet() {
			d.problem(p.key.Line, path, fmt.Sprintf("cannot be used together with %s", plain))
			return
		}
		fv.Set(reflect.ValueOf(NewSecretFile(file)))
		return
	}
	files := map[string]string{}
	d.value(p.val, reflect.ValueOf(&files).Elem(), path)
	if fv.IsNil() {
		fv.Set(reflect.MakeMap(fv.Type()))
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kp := joinPath(path, k)
		if fv.MapIndex(reflect.ValueOf(k)).IsValid() {
			d.problem(d.line(kp), kp, fmt.Sprintf("also set in %s", plain))
			continue
		}
		if files[k] != "" {
			fv.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(NewSecretFile(files[k])))
		}
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(n.Line, path, fmt.Sprintf("expected a list, got %s", describe(n)))
		return
	}
	t := v.Type()
	s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
	for i, c := range n.Content {
		e := s.Index(i)
		if init := d.init[t.Elem()]; init != nil {
			e.Set(init())
		}
		d.value(c, e, fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) dict(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, path, fmt.Sprintf("expected a mapping, got %s", describe(n)))
		return
	}
	t := v.Type()
	m := reflect.MakeMap(t)
	for _, p := range d.pairs(n, path) {
		e := reflect.New(t.Elem()).Elem()
		d.value(p.val, e, joinPath(path, p.key.Value))
		m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(t.Key()), e)
	}
	v.Set(m)
}
