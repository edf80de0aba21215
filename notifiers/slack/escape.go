package slack

import (
	"regexp"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

// How server-controlled text is made inert in Slack, on top of
// render.Defang (links) and escape (invisible characters):
//
//   - &, < and > become &amp; &lt; &gt; (Slack's own rule), so no
//     <!channel>, <@U123>, <#C123> or <https://x|label> markup can form.
//   - "@here", "@channel" and "@everyone" are written "[@]here" etc., so
//     they are not mentions even where Slack parses bare words.
//   - every mrkdwn text object is sent with verbatim: true, which stops
//     Slack from auto-linking URLs, bare domains, channel names and
//     mentions in it.
//   - inside code spans and code blocks a backtick is shown as ˋ (U+02CB)
//     so that server text cannot close the code it is shown in.
//
// Formatting characters (* _ ~) outside code are left alone: they can only
// change how text looks, and every name, id and diff is shown in code.

var (
	entities = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	mention  = regexp.MustCompile(`(?i)@(here|channel|everyone)\b`)
)

func noMentions(s string) string { return mention.ReplaceAllString(s, "[@]$1") }

// mrkdwnLine is mrkdwn on one line.
func mrkdwnLine(s string) string { return entities.Replace(noMentions(render.Defang(escape.Line(s)))) }

func noTicks(s string) string { return strings.ReplaceAll(s, "`", "ˋ") }

// Longest server text shown inline, in bytes before Slack escaping: a
// hostile tool name must not crowd everything else out of a section.
const (
	maxName    = 150
	maxSummary = 400
	maxMessage = 200
)

// short puts s on one line and cuts it to n bytes, saying how much was cut.
func short(s string, n int) string { return escape.Truncate(escape.Line(s), n) }

// code shows one line of server text as inline code.
func code(s string) string {
	if s == "" {
		return "`(empty)`"
	}
	return "`" + noTicks(mrkdwnLine(short(s, maxName))) + "`"
}

// codeBlock shows server text that is already escaped (escape.Visible) and
// cut to size as a code block.
func codeBlock(s string) string {
	return "```\n" + noTicks(entities.Replace(noMentions(render.Defang(escape.Visible(s))))) + "\n```"
}

// plain makes text inert for plain_text objects (headers), which Slack
// shows as they are: angle brackets become ‹ ›.
func plain(s string) string { return noMentions(render.Line(s)) }
