package config

import (
	"reflect"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{
		"CMD":   "/usr/bin/server",
		"A":     "alpha",
		"EMPTY": "",
		"N":     "4",
		"MULTI": "one\ntwo\nthree",
		"LOOP":  "${A}",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "set variable",
			yaml: "servers: [{name: s, command: '${CMD}'}]\n",
			check: func(t *testing.T, c *Config) {
				if c.Servers[0].Command != "/usr/bin/server" {
					t.Errorf("command = %q", c.Servers[0].Command)
				}
			},
		},
		{
			name:    "unset variable",
			yaml:    "servers:\n  - name: s\n    command: ./s\n    args: [ok, '${NOPE}']\n",
			wantErr: "test.yaml:4: servers[0].args[1]: environment variable \"NOPE\" is not set",
		},
		{
			name:    "every unset variable of a value",
			yaml:    "servers:\n  - name: s\n    command: '${X1}/${X2}'\n",
			wantErr: "test.yaml:3: servers[0].command: environment variable \"X1\" is not set\ntest.yaml:3: servers[0].command: environment variable \"X2\" is not set",
		},
		{
			name:    "invalid name",
			yaml:    "servers:\n  - name: s\n    command: '${1A}'\n",
			wantErr: "test.yaml:3: servers[0].command: invalid variable name \"1A\" in ${...}",
		},
		{
			name:    "empty name",
			yaml:    "servers:\n  - name: s\n    command: 'x${}'\n",
			wantErr: "test.yaml:3: servers[0].command: invalid variable name \"\" in ${...}",
		},
		{
			name: "set but empty",
			yaml: "servers: [{name: s, command: './s${EMPTY}'}]\n",
			check: func(t *testing.T, c *Config) {
				if c.Servers[0].Command != "./s" {
					t.Errorf("command = %q", c.Servers[0].Command)
				}
			},
		},
		{
			name: "dollar escapes and lone dollars",
			yaml: "servers: [{name: s, command: ./s, args: ['$$', '$${A}', '$A', 'a $ b', 'end$', '$$$$', '${A}$$${A}']}]\n",
			check: func(t *testing.T, c *Config) {
				want := []string{"$", "${A}", "$A", "a $ b", "end$", "$$", "alpha$alpha"}
				if !reflect.DeepEqual(c.Servers[0].Args, want) {
					t.Errorf("args = %q, want %q", c.Servers[0].Args, want)
				}
			},
		},
		{
			name: "no recursive expansion",
			yaml: "servers: [{name: s, command: '${LOOP}'}]\n",
			check: func(t *testing.T, c *Config) {
				if c.Servers[0].Command != "${A}" {
					t.Errorf("command = %q, want the variable's text as is", c.Servers[0].Command)
				}
			},
		},
		{
			name: "lists and maps",
			yaml: "servers:\n  - name: s\n    command: ./s\n    args: ['-a', 'x${A}y']\n    env: {K: '${A}', '${A}': literal-key}\n",
			check: func(t *testing.T, c *Config) {
				if got := c.Servers[0].Args[1]; got != "xalphay" {
					t.Errorf("args[1] = %q", got)
				}
				if v, _ := c.Servers[0].Env["K"].Reveal(); v != "alpha" {
					t.Errorf("env K = %q", v)
				}
				if _, ok := c.Servers[0].Env["${A}"]; !ok {
					t.Errorf("keys must not be expanded: env = %v", c.Servers[0].Env)
				}
			},
		},
		{
			name: "numbers, booleans and durations",
			yaml: "concurrency: '${N}'\ndefaults: {timeout: '${N}s'}\nservers: [{name: s, command: ./s}]\n",
			check: func(t *testing.T, c *Config) {
				if c.Concurrency != 4 || c.Defaults.Timeout.Seconds() != 4 {
					t.Errorf("concurrency %d, timeout %v", c.Concurrency, c.Defaults.Timeout)
				}
			},
		},
		{
			name:    "line numbers kept after a multi-line value",
			yaml:    "servers:\n  - name: s\n    command: ./s\n    args: ['${MULTI}']\n    commnad: ls\n",
			wantErr: "test.yaml:5: servers[0].commnad: unknown key (did you mean command?)",
		},
		{
			name:    "anchored value expanded once, reported where defined",
			yaml:    "servers:\n  - name: s\n    command: &c '${NOPE}'\n  - name: t\n    command: *c\n",
			wantErr: "test.yaml:3: servers[0].command: environment variable \"NOPE\" is not set",
		},
		{
			name:    "value from the environment is not quoted in messages",
			yaml:    "servers:\n  - name: s\n    command: ./s\n    watch: '${A}'\n",
			wantErr: "test.yaml:4: servers[0].watch: expected true or false, got (value from the environment)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("test.yaml", []byte(tt.yaml), lookup)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error =\n%v\nwant\n%s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}
