package config

import "os"

// Where ConfigPath looks, after the --config flag.
const (
	EnvConfig  = "MCPDRIFT_CONFIG"           // environment variable naming the file
	LocalPath  = "mcpdrift.yaml"             // in the working directory
	SystemPath = "/etc/mcpdrift/config.yaml" // system-wide
)

// ConfigPath picks the config file: the flag when set, else
// $MCPDRIFT_CONFIG when set (either returned even if the file is missing, so
// the error names what the user asked for), else ./mcpdrift.yaml or
// /etc/mcpdrift/config.yaml, whichever exists first, else ./mcpdrift.yaml.
func ConfigPath(flag string) string { //nolint:revive // the name callers were promised; config.Path would say less
	return configPath(flag, os.LookupEnv, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	})
}

func configPath(flag string, env func(string) (string, bool), exists func(string) bool) string {
	if flag != "" {
		return flag
	}
	if p, ok := env(EnvConfig); ok && p != "" {
		return p
	}
	for _, p := range []string{LocalPath, SystemPath} {
		if exists(p) {
			return p
		}
	}
	return LocalPath
}
