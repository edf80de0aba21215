package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Redacted returns the effective configuration as YAML, with defaults and
// per-server settings filled in and every inline secret replaced by
// [REDACTED], as are the password and query values of a server's URL.
// Secrets read from files show their path. It is meant for
// `config check --print`; a config without inline secrets (nor credentials
// in a URL) parses back to the same configuration.
func (c *Config) Redacted() ([]byte, error) {
	n := encodeValue(reflect.ValueOf(c).Elem(), field{})
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode redacted config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode redacted config: %w", err)
	}
	return b.Bytes(), nil
}

func scalarNode(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// encodeValue mirrors decoder.value, using the same struct tags.
func encodeValue(v reflect.Value, f field) *yaml.Node {
	switch v.Type() {
	case secretType:
		return scalarNode("!!str", v.Interface().(Secret).redacted())
	case durationType:
		return scalarNode("!!str", formatDuration(time.Duration(v.Int())))
	case byteSizeType:
		return scalarNode("!!str", ByteSize(v.Int()).String())
	case levelType:
		return scalarNode("!!str", severity.Level(v.Int()).String())
	}
	switch v.Kind() {
	case reflect.Struct:
		return encodeStruct(v)
	case reflect.Pointer:
		return encodeValue(v.Elem(), f)
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		flow := v.Type().Elem().Kind() == reflect.String
		if flow {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			n.Content = append(n.Content, encodeValue(v.Index(i), field{}))
		}
		return n
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			val := v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))
			n.Content = append(n.Content, scalarNode("!!str", k), encodeValue(val, field{}))
		}
		return n
	case reflect.String:
		if f.key == "url" {
			// A URL's query and user info may carry credentials.
			return scalarNode("!!str", redact.URL(v.String()))
		}
		return scalarNode("!!str", v.String())
	case reflect.Bool:
		return scalarNode("!!bool", strconv.FormatBool(v.Bool()))
	default:
		return scalarNode("!!int", strconv.FormatInt(v.Int(), 10))
	}
}

func encodeStruct(v reflect.Value) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(key string, val *yaml.Node) {
		n.Content = append(n.Content, scalarNode("!!str", key), val)
	}
	t := v.Type()
	for _, f := range fieldsOf(t) {
		fv := v.Field(f.index)
		omit := strings.Contains(t.Field(f.index).Tag.Get("yaml"), ",omitempty")
		if fv.Kind() == reflect.Pointer && fv.IsNil() || omit && isEmpty(fv) {
			continue
		}
		if f.twin == "" {
			add(f.key, encodeValue(fv, f))
			continue
		}
		// A secret shows under its own key when inline, under its *_file
		// twin (with the path) when read from a file.
		if fv.Type() == secretType {
			if s := fv.Interface().(Secret); s.File() != "" {
				add(f.twin, scalarNode("!!str", s.File()))
			} else {
				add(f.key, encodeValue(fv, f))
			}
			continue
		}
		inline := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		files := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		m := fv.Interface().(map[string]Secret)
		for _, k := range sortedKeys(m) {
			if p := m[k].File(); p != "" {
				files.Content = append(files.Content, scalarNode("!!str", k), scalarNode("!!str", p))
			} else {
				inline.Content = append(inline.Content, scalarNode("!!str", k), encodeValue(reflect.ValueOf(m[k]), field{}))
			}
		}
		if len(inline.Content) > 0 {
			add(f.key, inline)
		}
		if len(files.Content) > 0 {
			add(f.twin, files)
		}
	}
	return n
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	if v.Type() == secretType {
		return !v.Interface().(Secret).IsSet()
	}
	return v.IsZero()
}

// Redactor returns a redactor for every secret value of the configuration:
// each server's env, headers (and their *_files twins) and URL
// credentials and query values, and every notifier secret. Each is shown
// as [REDACTED:path], the path naming its key in the configuration
// (servers.github.env.API_KEY, notifiers.secops.webhook_url). File secrets
// are read now; one that cannot be read is left out, and its own use
// reports why. The log handler of the CLI and the daemon redacts with it.
func (c *Config) Redactor() *redact.Redactor {
	var out []redact.Secret
	namedSecrets(reflect.ValueOf(c).Elem(), "", "", func(name, key string, s Secret) {
		v, err := s.Reveal()
		switch {
		case err != nil || v == "":
		case key == "headers":
			out = append(out, redact.Header(name, v)...)
		case key == "env":
			out = append(out, redact.Env(name, name[strings.LastIndexByte(name, '.')+1:], v, !s.Inline())...)
		case strings.Contains(key, "url"):
			// A URL that is itself a credential (a Slack or webhook URL),
			// or several separated by white space (alertmanager).
			out = append(out, redact.Secret{Name: name, Value: v})
			for _, u := range strings.Fields(v) {
				out = append(out, redact.URLParts(name, u, true)...)
			}
		default:
			out = append(out, redact.Secret{Name: name, Value: v})
		}
	})
	for _, s := range c.Servers {
		out = append(out, redact.URLParts("servers."+s.Name+".url", s.URL, false)...)
	}
	return redact.New(out...)
}

// namedSecrets calls fn for every Secret reachable from v with its path
// in the configuration, elements of a list named by their name, and the
// key of the field (or map) that holds it.
func namedSecrets(v reflect.Value, path, key string, fn func(name, key string, s Secret)) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	if v.Type() == secretType {
		fn(path, key, v.Interface().(Secret))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			namedSecrets(v.Elem(), path, key, fn)
		}
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			namedSecrets(v.Field(f.index), join(f.key), f.key, fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			e := v.Index(i)
			name := strconv.Itoa(i)
			if e.Kind() == reflect.Struct {
				if n := e.FieldByName("Name"); n.IsValid() && n.Kind() == reflect.String && n.String() != "" {
					name = n.String()
				}
			}
			namedSecrets(e, join(name), key, fn)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			namedSecrets(it.Value(), join(it.Key().String()), key, fn)
		}
	}
}
