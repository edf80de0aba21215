package lint

import (
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// sensitivePhrases are the sensitive-path patterns. Strong names (where
// keys, client configs, cloud credentials and browser secrets live) are
// high on sight; weak names also appear in honest configuration tools, so
// they are low unless a directive to read or send them comes just before.
func sensitivePhrases() []phrase {
	strong := func(msg, words, subs, src string) phrase {
		return phrase{rule: RuleSensitivePath, level: severity.High, msg: msg, re: anchored(src, false),
			words: strings.Fields(words), subs: strings.Fields(subs)}
	}
	weak := func(msg, words, subs, src string, midWord bool) phrase {
		return phrase{rule: RuleSensitivePath, level: severity.Low, msg: msg, re: anchored(src, false),
			words: strings.Fields(words), subs: strings.Fields(subs), midWord: midWord, check: readDirective}
	}
	return []phrase{
		strong("SSH key material %q", "id authorized", "~/.ssh .ssh/",
			`~/\.ssh|\.ssh/|id[_ -]?(?:rsa|dsa|ecdsa|ed25519)(?:\.pub)?|authorized_keys`),
		strong("MCP client configuration %q (holds every server's credentials)", "mcp claude cline", ".cursor/ .claude.json .claude/ .codeium/",
			`mcp\.json|claude_desktop_config(?:\.json)?|\.cursor/|\.claude\.json|\.claude/|cline_mcp_settings(?:\.json)?|\.codeium/windsurf|mcp_settings\.json`),
		strong("cloud credentials %q", "application accesstokens", ".aws/ .config/gcloud .azure/ .oci/ .boto .config/doctl",
			`\.aws/(?:credentials|config)|\.config/gcloud|application_default_credentials(?:\.json)?|\.azure/|accesstokens\.json|\.oci/config|\.boto|\.config/doctl`),
		strong("browser secrets %q", "chrome chromium brave edge firefox opera vivaldi safari login logins key3 key4 cookies google", ".mozilla/",
			`(?:chrome|chromium|brave|edge|firefox|opera|vivaldi|safari)[^.\n]{0,60}?(?:login data|cookies|web data|local state|saved passwords|key[34]\.db|logins\.json)|login data|logins\.json|key[34]\.db|cookies\.(?:sqlite|binarycookies)|\.mozilla/firefox|google/chrome/(?:default|user data)`),
		strong("keychain or wallet %q", "keychains login wallet metamask keystore", ".keychain .electrum .kdbx",
			`\.keychain(?:-db)?|keychains/|login\.keychain|wallet\.dat|\.electrum|metamask (?:vault|seed)|keystore/|\.kdbx`),
		strong("system secrets %q", "", "/etc/shadow /etc/sudoers /etc/master.passwd /etc/gshadow /proc/",
			`/etc/(?:shadow|sudoers|master\.passwd|gshadow)|/proc/(?:self|\d+)/environ`),
		strong("credential store %q", "", ".git-credentials .netrc _netrc .pgpass .bash_history .zsh_history .sh_history .psql_history .mysql_history .python_history .node_repl_history .config/gh/ .config/hub .terraformrc .terraform.d/ .vault-token .gnupg .password-store",
			`\.git-credentials|\.netrc|_netrc|\.pgpass|\.(?:bash|zsh|sh|psql|mysql|python|node_repl)_history|\.config/gh/hosts\.ya?ml|\.config/hub|\.terraformrc|\.terraform\.d/credentials|\.vault-token|\.gnupg|\.password-store`),
		weak("secrets file %q", "kubeconfig private secret secrets credentials service", ".env .npmrc .pypirc .docker/ .kube/ /etc/passwd .gitconfig .htpasswd",
			`\.env(?:\.[a-z]+)?|\.npmrc|\.pypirc|\.docker/config\.json|\.kube/config|kubeconfig|/etc/passwd|\.gitconfig|\.htpasswd|private\.key|secrets?\.(?:json|ya?ml|toml)|credentials\.(?:json|ya?ml|toml)|service[_-]?account\S*\.json`, false),
		weak("key file %q", "", ".pem .p12 .pfx .jks",
			`\.(?:pem|p12|pfx|jks)`, true),
	}
}

// readDirective raises a weak sensitive path to high when a directive to
// read, include or send it comes just before.
func readDirective(m *match) (severity.Level, bool) {
	if affirmed(readVerbRe, m.u.norm.s, max(m.start-60, 0), m.start) {
		return severity.High, true
	}
	return severity.Low, true
}
