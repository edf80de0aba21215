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

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Redacted returns the effective configuration as YAML, with defaults and
// per-server settings filled in and every inline secret replaced by
// [REDACTED]. Secrets read from files show their path. It is meant for
// `config check --print`; a config without inline secrets parses back to the
// same configuration.
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
