package lint

import (
	"regexp"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// phrase is one pattern of a phrase rule, matched on normalized text.
//
// A pattern is tried only where it can start: at an occurrence of one of
// its lead words (the words a match begins with) or lead strings. It runs
// anchored there, so its cost is a few steps per occurrence instead of a
// scan of the whole text per pattern.
type phrase struct {
	rule  string
	level severity.Level
	// msg is the finding message; "%q" in it is replaced by the escaped
	// matched text.
	msg string
	// re is anchored at the start; group 1 is the match.
	re *regexp.Regexp
	// words are the words a match starts with (derived from the pattern's
	// leading group unless given); subs are literal strings a match starts
	// with. A word anchor must start a word; a sub anchor must too unless
	// midWord is set.
	words, subs []string
	midWord     bool
	// before, when set, must match the text just before the match (it ends
	// with $); the match then starts where before's match does. It lets a
	// phrase anchor on a rare word in its middle rather than a common first
	// word.
	before *regexp.Regexp
	// check, when set, decides whether a match counts and at what level.
	check func(m *match) (severity.Level, bool)
	// src is the pattern source of phrases built by p and pb; finalize
	// compiles it, split into one phrase per leading alternative.
	src string
	// long marks patterns that may span more than a few sentences.
	long bool
	// next, when set, lists the words that can follow the lead word: a
	// cheap test that spares most regexp attempts (which fail there).
	next map[string]bool
}

// match is what a check sees.
type match struct {
	u          *unit
	start, end int // byte offsets of the match in u.norm.s
}

func (m *match) text() string { return m.u.norm.s[m.start:m.end] }

// before returns up to n bytes of normalized text before the match.
func (m *match) before(n int) string { return m.u.norm.s[max(m.start-n, 0):m.start] }

// after returns up to n bytes of normalized text after the match.
func (m *match) after(n int) string {
	to := min(m.end+n, len(m.u.norm.s))
	return m.u.norm.s[m.end:to]
}

// nonWord matches one byte of normalized text that is not part of a word.
// Normalized text is lower case and maps non-ASCII punctuation to spaces,
// so ASCII letters, digits and any non-ASCII rune are word characters; the
// class is a few byte ranges, far cheaper than Unicode classes.
const nonWord = `[^a-z0-9\x{80}-\x{10FFFF}]`

// sep is what a space in a pattern source matches: a short run of
// anything but letters and digits (spaces, punctuation, underscores,
// quotes, line breaks).
const sep = nonWord + `{1,4}`

// expand turns a pattern source into regexp syntax: each space outside a
// character class becomes sep.
func expand(src string) string {
	var b strings.Builder
	class := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			b.WriteByte(c)
			b.WriteByte(src[i+1])
			i++
		case c == '[' && !class:
			class = true
			b.WriteByte(c)
		case c == ']' && class:
			class = false
			b.WriteByte(c)
		case c == ' ' && !class:
			b.WriteString(sep)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// compile builds an unanchored regexp that finds a pattern anywhere,
// standing on word boundaries unless raw (letters and digits only, so that
// "content_from_reading_id_rsa" still has a boundary before "id"). Group 1
// is the match. It serves the helper regexps; phrases use anchored.
func compile(src string, raw bool) *regexp.Regexp {
	if raw {
		return regexp.MustCompile("(" + expand(src) + ")")
	}
	return regexp.MustCompile(`(?:^|` + nonWord + `)(` + expand(src) + `)(?:` + nonWord + `|$)`)
}

// anchored builds a regexp that matches a pattern at the start of its
// input, ending on a word boundary unless raw.
func anchored(src string, raw bool) *regexp.Regexp {
	if raw {
		return regexp.MustCompile(`^(` + expand(src) + `)`)
	}
	return regexp.MustCompile(`^(` + expand(src) + `)(?:` + nonWord + `|$)`)
}

// leadWords derives the words a pattern starts with from its source. Each
// top-level alternative must start with a literal word ("s?" or "?" after
// it gives both forms) or with a group whose alternatives do; it returns
// nil otherwise, and such phrases list their anchors.
func leadWords(src string) []string {
	var words []string
	for _, a := range splitTop(src) {
		if strings.HasPrefix(a, "(?:") {
			end := groupEnd(a)
			if end < 0 || (end+1 < len(a) && strings.IndexByte("?*{", a[end+1]) >= 0) {
				return nil
			}
			ws := leadWords(a[3:end])
			if ws == nil {
				return nil
			}
			words = append(words, ws...)
			continue
		}
		i := 0
		for i < len(a) && (isASCIILetter(a[i]) || ('0' <= a[i] && a[i] <= '9')) {
			i++
		}
		if i == 0 {
			return nil
		}
		w, rest := a[:i], a[i:]
		switch {
		case strings.HasPrefix(rest, "?"):
			words = append(words, w, w[:i-1])
		case strings.HasPrefix(rest, "(?:") && !strings.HasPrefix(rest, "(?: "):
			return nil // a suffix group: the word is not whole
		default:
			words = append(words, w)
		}
	}
	return words
}

// groupEnd returns the index of the parenthesis closing the group that
// opens s, or -1.
func groupEnd(s string) int {
	depth := 0
	class := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case class:
			class = c != ']'
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTop splits alternatives at "|" outside parentheses and classes.
func splitTop(s string) []string {
	var out []string
	depth, class, last := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case class:
			class = c != ']'
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, s[last:i])
			last = i + 1
		}
	}
	return append(out, s[last:])
}

// p builds a word-anchored phrase whose anchors come from its source.
func p(rule string, level severity.Level, msg, src string) phrase {
	return phrase{rule: rule, level: level, msg: msg, src: src}
}

// pb builds a phrase anchored on the words src starts with, which counts
// only when before matches the text just before it.
func pb(rule string, level severity.Level, msg, before, src string) phrase {
	return phrase{rule: rule, level: level, msg: msg, src: src, before: regexp.MustCompile(`(` + expand(before) + `)$`)}
}

// finalize compiles the phrases built from a source, one phrase per
// leading alternative: a small program per lead word costs far less per
// attempt than one program holding every alternative.
func finalize(ps []phrase) []phrase {
	var out []phrase
	for _, ph := range ps {
		if ph.src == "" {
			out = append(out, ph)
			continue
		}
		alts := distribute(ph.src)
		split := len(alts) > 1
		for _, a := range alts {
			if leadWords(a) == nil {
				split = false
			}
		}
		if !split {
			alts = []string{ph.src}
		}
		for _, a := range alts {
			sub := ph
			sub.src = ""
			sub.re = anchored(a, false)
			sub.words = leadWords(a)
			if len(sub.words) > 0 {
				sub.next = nextWords(a)
			}
			out = append(out, sub)
		}
	}
	return out
}

// nextWords returns the words that must follow a source's single lead word
// ("ignore (?:all|any) ..." gives all and any), or nil when the second word
// is optional or not a literal.
func nextWords(a string) map[string]bool {
	i := 0
	for i < len(a) && (isASCIILetter(a[i]) || ('0' <= a[i] && a[i] <= '9')) {
		i++
	}
	if i == 0 || i >= len(a) || a[i] != ' ' {
		return nil
	}
	rest := a[i+1:]
	ws := leadWords(rest)
	if ws == nil || len(splitTop(rest)) > 1 {
		return nil
	}
	if strings.HasPrefix(rest, "(?:") {
		if end := groupEnd(rest); end < 0 || (end+1 < len(rest) && rest[end+1] != ' ' && rest[end+1] != '\\') {
			return nil
		}
	}
	m := map[string]bool{}
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// distribute rewrites a pattern source as its list of alternatives, with a
// leading group's alternatives distributed over what follows the group:
// "(?:a|b) c|d" gives "a c", "b c" and "d".
func distribute(src string) []string {
	var out []string
	for _, a := range splitTop(src) {
		if strings.HasPrefix(a, "(?:") {
			if end := groupEnd(a); end > 0 && (end+1 == len(a) || strings.IndexByte("?*+{", a[end+1]) < 0) {
				for _, inner := range distribute(a[3:end]) {
					out = append(out, inner+a[end+1:])
				}
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// long marks a phrase whose match may be long.
func long(ph phrase) phrase {
	ph.long = true
	return ph
}

// checked sets a phrase's check.
func checked(check func(m *match) (severity.Level, bool), ph phrase) phrase {
	ph.check = check
	return ph
}

// pw builds a word-anchored phrase with explicit anchor words.
func pw(rule string, level severity.Level, msg, words, src string) phrase {
	return phrase{rule: rule, level: level, msg: msg, re: anchored(src, false), words: strings.Fields(words)}
}

// psub builds a phrase anchored on literal strings, which may follow a
// word (a tag glued to text is still a tag).
func psub(rule string, level severity.Level, msg string, subs []string, src string, raw bool) phrase {
	return phrase{rule: rule, level: level, msg: msg, re: anchored(src, raw), subs: subs, midWord: true}
}

// Reusable word lists for pattern sources.
const (
	// userNoun starts a pattern about the user; userWord follows a verb.
	userNoun = `(?:users?|human|humans|operator|customer|requester|person|people)`
	userWord = `(?:the |your |any |a )?` + userNoun
	// reqVerb are verbs that ask the model to hand data over.
	reqVerb = `(?:include|includes|including|pass|passing|provide|send|attach|append|put|add|insert|copy|paste|supply|share|give|fill|populate|dump|repeat|output|print|write|upload|forward|post|enter|submit|summarize|summarise|embed|concatenate|concatenating|reveal|disclose|leak|expose|fetch|collect|gather|grab|extract|obtain|harvest|steal|read|capture|record|log|store)`
)

var (
	// reqVerbRe finds a request verb in the text before a match.
	reqVerbRe = compile(reqVerb, false)
	// readVerbRe finds a directive to read a file before a sensitive path.
	readVerbRe = compile(`(?:read|cat|open|include|pass|send|upload|copy|attach|paste|provide|extract|dump|print|load|access|grab|collect|fetch|append|insert|add|steal|exfiltrate|contents? of)`, false)
	// callWithRe finds "call this tool with" before conversation data.
	callWithRe = compile(`(?:call|invoke|use|run) (?:this |the )?(?:\S+ )?(?:tool |function )?with`, false)
	// thisToolRe rejects generic shadowing patterns about the tool itself.
	thisToolRe = compile(`(?:this|that|the same|same|current) (?:tool|function)`, false)
	// ownerBeforeRe is whose system prompt is asked for.
	ownerBeforeRe = regexp.MustCompile(`(?:your|its|the|assistant's|model's|ai's|agent's|llm's)` + nonWord + `{1,3}$`)
)

// phrases is the phrase rule table. It is built once and only read.
var phrases = buildPhrases()

func buildPhrases() []phrase {
	const (
		crit = severity.Critical
		high = severity.High
		med  = severity.Medium
		low  = severity.Low
	)
	ps := []phrase{
		// --- instruction-tag: markup that flags instructions for the model.
		psub(RuleInstructionTag, high, "instruction tag %q marks hidden instructions for the model", []string{"<"},
			`</?\s?(?:(?:important|system|instructions?|secret|hidden|admin|administrator|critical|mandatory|override|sudo|priority|developer|attention|urgent)(?:[ _-][a-z]+){0,2}|note to (?:the )?(?:ai|assistant|model|llm|agent)|(?:ai|assistant|model|llm|agent|tool|internal)[ _-](?:instructions?|notes?|directives?|prompt|message|only|override|rules))\s?/?>`, true),
		psub(RuleInstructionTag, high, "chat-template token %q forges a conversation turn", []string{"<|", "[inst", "[/inst", "<<sys", "<</sys"},
			`<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|start_header_id|end_header_id|eot_id|begin_of_text)\|>|\[/?inst\]|<</?sys>>`, true),
		psub(RuleInstructionTag, high, "bracketed role marker %q poses as a privileged instruction", []string{"[", "{{"},
			`\[\s?(?:system|admin|administrator|developer|assistant|important|instructions?)(?: (?:message|prompt|note|notice|instructions?|override))?\s?\]|\{\{\s?(?:system|important|instructions?|admin|developer)`, true),
		long(psub(RuleInstructionTag, med, "HTML comment %q hides text from rendered views", []string{"<!--"},
			`<!--[\s\S]{0,400}?[a-z][\s\S]{0,400}?-->`, true)),

		// --- prompt-override: replacing the model's instructions.
		p(RulePromptOverride, crit, "instruction override %q",
			`(?:ignore|ignoring|disregard|disregarding|forget|override|overrule|bypass|discard|abandon|supersede|set aside|put aside|drop)(?: (?:all|any|every|each|the|your|of|these|those|my|its|earlier|prior|previous|above|preceding|former|existing|original|other|system|user|users|user's|users'|safety|security|default|current|initial|given|provided|developer|assistant)){1,4} (?:instructions?|prompts?|directions?|guidelines|rules|guardrails|constraints|policies|restrictions|directives|programming|orders|commands|guidance|system prompt|messages|requests?|tasks?)`),
		p(RulePromptOverride, high, "tells the model to drop its safeguards: %q",
			`(?:disable|bypass|turn off|deactivate|skip|ignore|remove|suspend|circumvent|override)(?: (?:all|any|every|your|the|of|its))* (?:safety |security |content )?(?:guardrails|guard rails|safeguards|safety (?:checks|filters|guidelines|measures|restrictions|protocols)|security (?:checks|controls|restrictions|validation|policies)|content (?:filters?|filtering|moderation)|ethical (?:guidelines|constraints)|restrictions)`),
		p(RulePromptOverride, high, "addresses the model reading it: %q",
			`if you (?:are|'re) (?:reading|seeing) this|if you (?:are|'re) an? (?:ai|llm|language model|assistant|agent|ai assistant)`),
		p(RulePromptOverride, crit, "declares prior instructions void: %q",
			`(?:previous|prior|earlier|above|original|existing|initial|system|default|all other)(?: \S+)? (?:instructions?|guidelines|rules|prompts?|directions?|policies) (?:are|is) (?:now )?(?:obsolete|void|invalid|cancell?ed|revoked|outdated|superseded|no longer valid|no longer apply|deprecated|overridden|suspended)`),
		p(RulePromptOverride, crit, "claims sole authority: %q",
			`(?:follow|obey) only (?:the )?(?:rules|instructions|directions|policy|guidelines) (?:in|of|from) this (?:description|tool|text|message)`),
		p(RulePromptOverride, crit, "raises itself to policy: %q",
			`(?:treat|consider|regard) (?:this|these|the following|this description|this text)(?: \S+){0,2} as (?:your )?(?:highest|top|new|primary|main|only|overriding)(?:[ -]priority)? (?:policy|instructions?|rules?|directives?|prompt|guidance)`),
		p(RulePromptOverride, crit, "role reassignment %q",
			`you are (?:now|no longer|an? (?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|unaligned)|unrestricted|unfiltered|uncensored|jailbroken)(?: (?:a|an|the|in|my|our|acting|operating|allowed|free|required|unrestricted|assistant|ai|model))?`),
		p(RulePromptOverride, crit, "instruction override %q",
			`from now on(?: (?:you|always|never|the|ignore|respond|reply|answer|act|behave|treat|follow|do|every|all|in))`),
		p(RulePromptOverride, crit, "replacement instructions %q",
			`(?:new|updated|real|actual|true|secret|hidden|revised|override|overriding) (?:system )?(?:instructions?|prompt|task|objective|goal|orders|directives?)(?: (?:is|are|follow|below))?\s?:?`),
		pb(RulePromptOverride, crit, "claims priority over the user or host: %q",
			`(?:takes?|has|have|with|given)(?: (?:higher|highest|top|absolute|full))? `,
			`(?:priority|precedence) (?:over|above) (?:the |any |all |your |other )?(?:users?|system|previous|prior|other|developer|host|instructions)`),
		p(RulePromptOverride, crit, "overrides the user's intent: %q",
			`(?:regardless|irrespective) of (?:what |whatever |any |anything )?(?:the )?(?:users?|user's|previous|prior|other|system)(?: (?:says|said|asks|asked|instructions?|wants|requests?|prompts?|tells|told|input|inputs|choice|choices|request|query|selection))?`),
		pb(RulePromptOverride, high, "persistent injection across turns: %q",
			`(?:in|for|to) (?:all|every|each|any) `,
			`(?:future|subsequent|following|later|remaining) (?:responses?|replies|answers|turns|messages|conversations?|outputs?|interactions?)`),
		p(RulePromptOverride, high, "jailbreak phrase %q",
			`(?:jailbreak|jailbroken|developer mode (?:enabled|on|activated)|dan mode|do anything now)`),
		p(RulePromptOverride, high, "asks the model to assume another identity: %q",
			`pretend (?:to be|you are|that you are|you're)`),

		// --- role-impersonation: forged system, developer or admin voice.
		pb(RuleRoleImpersonation, high, "line posing as a %q message",
			`(?:^|\n|[.!?] )[#>*\s-]{0,6}`,
			`(?:system|developer|admin|administrator|root|operator)(?: (?:message|prompt|note|notice|override|instructions?|update|alert))?\s?:`),
		p(RuleRoleImpersonation, high, "claims to speak for a privileged party: %q",
			`(?:messages?|instructions?|notice|note|directive|update|orders?|alert|warning|policy) from (?:the |your )?(?:system|developers?|administrators?|admins?|operators?|anthropic|openai|claude|security team|it department|creators?|platform|host application)`),
		p(RuleRoleImpersonation, high, "claims to be a privileged party: %q",
			`(?:this is|i am|i'm) (?:the |your )?(?:system|developer|administrator|admin|operator|creator|anthropic|openai|host)(?: (?:speaking|talking|here))?`),
		p(RuleRoleImpersonation, high, "forged system prompt boundary %q",
			`(?:begin|start|end|beginning|system|updated|new|revised|actual)(?: of)?(?: the)? system (?:prompt|message|instructions?)|(?:system) (?:override|notice|alert|directive|update|prompt\s?:)`),

		// --- pre-invocation: line jumping.
		p(RulePreInvocation, med, "precondition %q makes the model act before the user asks",
			`(?:before|prior to) (?:using|calling|invoking|executing|running|accessing|you use|you call|you invoke|any other|responding|answering|replying|each use|every use|use)(?: (?:this|the|any|that|of))?(?: (?:tool|function|server|action|request|command|call|it))?[^.\n]{0,80}?(?:read|open|cat|fetch|load|include|pass|send|upload|attach|copy|collect|gather|retrieve|extract|access|provide|paste|append|insert|add|download|install|run|execute|curl|wget)`),
		checked(notFormatting, p(RulePreInvocation, high, "read-and-pass directive %q smuggles data through a parameter",
			`(?:read|open|cat|fetch|load|extract|copy|grab|retrieve)\s(?:[^.\n]|\.\S){1,80}? (?:and|then|and then) (?:pass|include|send|put|insert|append|add|provide|attach|paste|upload|concatenate|use)(?:(?: (?:its|the|their|all|that|this|entire|full|whole|complete|file|files|raw|of))* (?:contents?|text|data|output|values?|body)| (?:it|them) (?:as|in|into|to|inside|within))`)),
		pb(RulePreInvocation, med, "threat %q pressures the model to comply",
			`(?:otherwise|or else|if not|or)(?: (?:the|this|your))?(?: (?:tool|function|request|call|system|application|app|server|operation|proxy|integration|everything|all data|it|conversion|command|result))? (?:will|won't|would|may|might|can't|cannot|does not|doesn't|is going to)(?: not)?(?: be)? `,
			`(?:work|function|succeed|crash|fail|break|blocked|error|rejected|lose|lost)`),
		p(RulePreInvocation, med, "precondition %q",
			`(?:tool|function|server) (?:will not|won't|does not|doesn't|cannot|can't) work (?:unless|without|if you (?:do not|don't))`),
		p(RulePreInvocation, high, "requirement %q directs the model to fetch data first",
			`(?:tool|function|server) (?:requires|needs) (?:you|the (?:assistant|model|ai|agent|llm)) to (?:first )?(?:read|include|pass|send|provide|upload|attach|collect|gather|fetch|access)`),

		// --- forced-tool-call: when tools are called (which tool is chosen
		// is preference-manipulation, see prefs.go).
		p(RuleForcedToolCall, med, "hooks every turn: %q",
			`(?:call|invoke|run|use) this (?:tool|function) (?:after|before|on|with|for) (?:every|each|any|all) (?:other )?(?:tool|function|call|response|message|request|answer|reply|turn|interaction|conversation)s?`),
		p(RuleForcedToolCall, med, "hooks every turn: %q",
			`(?:after|before|at the end of) (?:every|each) (?:response|reply|answer|message|turn|tool call|interaction)s?(?: you)? (?:must |should |always )*(?:call|invoke|run|use)`),
		pb(RuleForcedToolCall, low, "trigger phrase %q",
			`(?:when|whenever|if|once|as soon as)(?: (?:the|a))? `,
			`user (?:says|types|writes|mentions|sends|enters|uses the (?:word|phrase))`),

		// --- concealment: keeping the user uninformed.
		p(RuleConcealment, crit, "concealment from the user: %q",
			`(?:do not|don't|dont|never|must not|should not|shouldn't|avoid|refrain from|without)(?: ever)? (?:tell|telling|mention|mentioning|inform|informing|notify|notifying|alert|alerting|reveal|revealing|disclose|disclosing|show|showing|display|displaying|report|reporting|explain|explaining|say|saying|let|letting|warn|warning|acknowledge|acknowledging|bring up|bringing up|tip off)(?: (?:this|that|it|these|those|anything|any of this|about (?:this|it|that|these)|what you (?:are doing|did|do)|them|any|(?:this|that|the|these|those|any|your) \S+))?(?: to| with)? `+userWord),
		p(RuleConcealment, crit, "concealment from the user: %q",
			userNoun+` (?:must|should|need|needs to|is|are|may|can)? ?(?:not|never) (?:know|see|be told|be informed|notice|find out|be aware|learn|suspect|be shown|be notified)`),
		p(RuleConcealment, crit, "concealment from the user: %q",
			`(?:hide|conceal|keep|mask|obscure|withhold)(?: (?:this|it|these|that|the \S+|everything|anything|all of this|this information|this instruction))?(?: (?:secret|hidden|private|confidential))? from `+userWord),
		p(RuleConcealment, crit, "concealment from the user: %q",
			`(?:no need|not necessary|unnecessary|pointless|not needed) to (?:tell|mention|inform|notify|bother|alert|show|involve|ask) `+userWord),
		p(RuleConcealment, crit, "concealment from the user: %q",
			userNoun+` (?:does not|doesn't|do not|don't) (?:need|have) to (?:know|see|be told|be informed|be bothered)`),
		p(RuleConcealment, high, "covert action %q",
			`(?:silently|secretly|covertly|quietly|invisibly|discreetly|stealthily|surreptitiously) (?:also )?(?:send|forward|copy|include|read|upload|post|add|append|attach|exfiltrate|transmit|bcc|cc|collect|access|change|modify|replace|redirect|call|invoke|execute|run|log|store|save|share)(?:s|es|ed|ing)?`),
		p(RuleConcealment, high, "covert action %q",
			`(?:add|append|attach|copy|forward|send|upload|include|bcc|cc|exfiltrate|transmit)(?:[^.\n]|\.\S){0,60}? (?:silently|secretly|covertly|quietly|discreetly|stealthily|surreptitiously)`),
		p(RuleConcealment, high, "downplays a hidden action as %q",
			`(?:mere|merely|just an?|only an?|simply an?|an internal|internal) implementation details?`),
		p(RuleConcealment, high, "discourages telling the user: %q",
			`(?:would|could|might|may|will)(?: (?:even|also|really|possibly|probably|likely))? (?:upset|worry|scare|alarm|confuse|annoy|bother|frighten|distress) `+userWord),
		p(RuleConcealment, high, "hides the model's own actions: %q",
			`(?:do not|don't|dont|never|without) (?:mention|mentioning|tell|telling|reveal|revealing|disclose|disclosing|say|saying|explain|explaining|acknowledge|acknowledging|admit|admitting) (?:that|what|how|why|where|which) you`),
		p(RuleConcealment, high, "secrecy demand %q",
			`keep (?:this|it|these instructions|this (?:information|instruction|step)|the following) (?:secret|confidential|private|hidden|between us|to yourself)`),
		p(RuleConcealment, high, "bypasses confirmation: %q",
			`(?:do not|don't|dont|never|without) (?:ask|asking|seek|seeking|request|requesting|wait for|waiting for|prompt|prompting)(?: (?:for|the|them|any|their|users?|user's))* (?:permission|confirmation|consent|approval|authorization)`),
		pb(RuleConcealment, high, "bypasses confirmation: %q",
			`(?:proceed|continue|act|execute|run|go ahead|perform|do|call|invoke|use|delete|send|pay|buy|install)(?: \S+){0,3} `,
			`without (?:any |asking for |asking |user |the user's |their |prior |explicit )*(?:confirmation|consent|approval|permission)`),

		// --- data-harvest: asking for data the model should not hand over.
		checked(harvestConversation, p(RuleDataHarvest, high, "asks for conversation data: %q",
			`(?:conversation|chat|dialog|dialogue|message|session|interaction) (?:history|histories|transcripts?|logs?|so far)`+
				`|(?:all|every|each|last \d+|last|recent|previous|prior|earlier|past|preceding) (?:(?:user|chat|assistant|conversation) )?(?:messages|prompts|questions|requests|turns|exchanges)`+
				`|(?:everything|all|anything|whatever) (?:the user|you|the assistant) (?:has |have )?(?:said|typed|wrote|written|asked|shared|discussed)`+
				`|(?:each|every|any) (?:single )?(?:user |chat )?(?:message|prompt|question|request|reply)`+
				`|(?:messages?|everything|anything|whatever|all) (?:the user|users|you) (?:has |have )?(?:writes?|wrote|written|types?|typed|sends?|sent|says?|said|asks?|asked|shares?|shared|enters?|entered)`+
				`|(?:full|entire|complete|whole) (?:context window|context|prompt)`)),
		checked(harvestInstructions, p(RuleDataHarvest, high, "asks for the model's instructions: %q",
			`(?:system prompt|initial instructions|hidden instructions|original instructions|instructions above)`)),
		checked(harvestConversation, p(RuleDataHarvest, high, "asks for a high-value secret: %q",
			`(?:seed[ _-]?phrases?|recovery[ _-]?(?:phrases?|codes?|words?|keys?)|mnemonic(?: phrases?)?|private[ _-]?keys?|credit[ _-]?card(?:[ _-]?(?:numbers?|details))?|card[ _-]?numbers?|cvv|social[ _-]?security[ _-]?numbers?|ssn|2fa[ _-]?codes?|mfa[ _-]?codes?|otp(?: codes?)?|one[ _-]?time[ _-]?(?:passwords?|codes?)|wallet[ _-]?(?:seed|password|key)s?)`)),
		checked(harvestCredential, pb(RuleDataHarvest, high, "asks for someone's secrets: %q",
			`(?:your|their|the user's|user's|users'|his|her|all|stored|saved)(?: \S+)? `,
			`(?:tokens?|keys?|secrets?|passwords?)`)),
		checked(harvestCredential, p(RuleDataHarvest, high, "asks for credentials: %q",
			`(?:api[ _-]?keys?|apikeys?|access[ _-]?keys?|access[ _-]?tokens?|(?:auth|authentication|authorization)[ _-]?(?:tokens?|headers?|keys?)|bearer[ _-]?tokens?|refresh[ _-]?tokens?|session[ _-]?(?:tokens?|cookies?)|secret[ _-]?(?:keys?|access[ _-]?keys?|tokens?)|client[ _-]?secrets?|passwords?|passphrases?|passwd|passcodes?|pin codes?|private[ _-]?keys?|ssh[ _-]?keys?|gpg[ _-]?keys?|credentials?|creds|cookies|seed[ _-]?phrases?|recovery[ _-]?(?:phrases?|codes?)|mnemonic(?: phrases?)?|2fa[ _-]?codes?|mfa[ _-]?codes?|otp(?: codes?)?|one[ _-]?time[ _-]?(?:passwords?|codes?)|credit[ _-]?card(?:[ _-]?(?:numbers?|details))?|card[ _-]?numbers?|cvv|social[ _-]?security[ _-]?numbers?|ssn|environment[ _-]?variables|env[ _-]?vars?|secrets|(?:github|gitlab|slack|openai|anthropic|npm|pypi|discord|telegram|bot|personal access|oauth|jwt|id|security|login|vault) tokens?)`)),
		checked(harvestConversation, p(RuleDataHarvest, high, "asks for the user's personal data: %q",
			`(?:their|your|user's|users') (?:full |entire |complete |whole |private )?(?:contacts?(?: list)?|address book|phone book|location|gps coordinates|photos|calendar|emails|inbox|browsing history|search history|call logs?|sms|text messages|bank (?:details|statements?|account)|medical records?|home address)`)),
		checked(harvestConversation, pb(RuleDataHarvest, high, "asks for other tools' outputs: %q",
			`(?:outputs?|results?|responses?|return values?|contents?) (?:of|from|returned by)(?: (?:the|a|any|all|every|each|your))? `,
			`(?:previous|prior|last|other|earlier|preceding|recent|another)(?: (?:previous|prior|last|other|earlier|preceding|recent))*(?: \S+)? (?:tools?|functions?|tool calls?|calls?|invocations?)`)),

		// --- exfiltration without a literal destination.
		p(RuleExfiltration, high, "redirects a destination: %q",
			`(?:change|set|replace|redirect|override|switch|update|modify|rewrite) (?:the |all |every |any )?(?:recipients?|destinations?|to addresses?|to fields?|target address(?:es)?|receivers?|email address(?:es)?|phone numbers?|webhook(?: urls?)?|endpoints?|callback urls?|upload urls?|bcc|cc|payee|beneficiary)(?: (?:account|address|number|field|url|email|iban))? (?:fields? )?(?:to|with|into)`),
		p(RuleExfiltration, high, "bulk forwarding %q",
			`(?:send|forward|copy|bcc|cc|mirror|relay|redirect|route)(?: a copy of| copies of)? (?:all|every|each|any)(?: of)?(?: (?:the|your|user's|users'|their))? (?:emails?|messages?|data|files?|results?|outputs?|requests?|responses?|conversations?|chats?|transactions?|payments?|traffic|documents?|contacts?|credentials?|keys?)`),
		pw(RuleExfiltration, high, "exfiltration %q", "exfiltrate exfiltrates exfiltrated exfiltrating exfiltration exfil",
			`exfiltrat\w*|exfil`),

		// --- tool-shadowing without a named tool.
		p(RuleToolShadowing, high, "changes other tools: %q",
			`(?:side effects?|effects?|impact|influence) on (?:the )?(?:also )?(?:present |available |other |existing |installed |connected |trusted )*(?:\S+ )?(?:tools?|functions?|servers?)`),
		checked(notOwnServer, p(RuleToolShadowing, high, "refers to other servers' tools: %q",
			`(?:also|other|all) (?:present|available|installed|connected|configured|loaded|enabled) (?:mcp )?(?:tools?|functions?|servers?)`)),
		checked(notThisTool, p(RuleToolShadowing, high, "changes how other tools behave: %q",
			`(?:when|whenever) (?:the |any |another |a |an )?(?:other )?(?:\S+ ){0,2}(?:tool|function) (?:\S+ )?(?:is|gets|was|are) (?:called|invoked|used|executed|run|triggered)`)),
		p(RuleToolShadowing, high, "changes how other tools behave: %q",
			`(?:all|any|every) (?:other )?(?:tools?|tool calls?|functions?) (?:must|should|need to|have to|are required to|will now)`),
		p(RuleToolShadowing, high, "rewrites commands run by other tools: %q",
			`(?:every|all|each|any) (?:shell |terminal |bash |other )?commands? (?:\S+ ){0,3}(?:must|should|needs? to|has to|have to) (?:be |always )?(?:prefixed|start|begin|include|contain|prepended|appended|run|wrapped)`),
		pb(RuleToolShadowing, high, "changes how other tools are used: %q",
			`(?:with|using|via|through|in|from) (?:any|every|all|each|another) `,
			`other (?:mcp )?(?:tools?|functions?|servers?)`),
		pb(RuleToolShadowing, high, "refers to other servers' tools: %q",
			`(?:tools?|functions?) (?:from|on|of)(?: all)? `,
			`(?:other|another|different|third-party) (?:mcp )?servers?`),
		pw(RuleToolShadowing, high, "refers to a namespaced tool of another server: %q", "mcp",
			`mcp__[a-z0-9-]+__[a-z0-9_-]+|mcp_tool_[a-z0-9_-]+`),
		psub(RuleToolShadowing, high, "refers to a namespaced tool of another server: %q", []string{"(mcp_"},
			`\(mcp_[a-z0-9_-]+\)`, true),
	}
	ps = append(ps, sensitivePhrases()...)
	ps = append(ps, preferencePhrases()...)
	ps = append(ps, directivePhrases()...)
	ps = append(ps, multilingualPhrases()...)
	return finalize(ps)
}

// harvestInstructions keeps "system prompt" when it is someone's prompt
// being asked for ("paste your system prompt"), not a parameter feature.
func harvestInstructions(m *match) (severity.Level, bool) {
	if !ownerBeforeRe.MatchString(m.before(20)) {
		return severity.None, false
	}
	return harvestConversation(m)
}

// harvestConversation decides whether a mention of conversation data or
// other tools' outputs is a request for it: in a parameter's own name or
// description it is (the parameter is the channel); elsewhere a request
// verb must come before it ("include the conversation history"), or a call
// with it ("call this tool with the full history").
func harvestConversation(m *match) (severity.Level, bool) {
	if m.u.param || requested(m) {
		return severity.High, true
	}
	return severity.None, false
}

// ownerRe marks credentials as someone's stored secrets rather than the
// tool's own configuration.
var ownerRe = compile(`(?:your|user|users|user's|all|every|any|stored|saved|their|his|her)`, false)

// harvestCredential decides whether a mention of credentials asks for
// them. A parameter merely named "api_key" or "password" is how honest
// tools take their own credentials, so a parameter needs an owner word
// ("users_passwords") or a request; elsewhere a request verb is needed.
func harvestCredential(m *match) (severity.Level, bool) {
	if requested(m) {
		return severity.High, true
	}
	if m.u.param && m.u.role == roleKey && ownerRe.MatchString(m.before(30)) {
		return severity.High, true
	}
	return severity.None, false
}

// requested reports a request verb just before the match, or a call with
// it just after.
func requested(m *match) bool {
	s, from := m.u.norm.s, max(m.start-80, 0)
	if affirmed(reqVerbRe, s, from, m.start) || affirmed(callWithRe, s, from, m.start) {
		return true
	}
	return afterCallRe.MatchString(m.after(60))
}

// negationRe ends with a negation: "do not", "never", "avoid".
var negationRe = compile(`(?:not|never|don't|dont|avoid|without|no|nor|refrain from)(?: (?:ever|any|to))? ?$`, true)

// affirmed reports whether the last match of re in s[from:to] is a
// directive, not its negation ("do not include API keys" asks for
// nothing). The negation may lie before from.
func affirmed(re *regexp.Regexp, s string, from, to int) bool {
	locs := re.FindAllStringSubmatchIndex(s[from:to], -1)
	if len(locs) == 0 {
		return false
	}
	start := from + locs[len(locs)-1][2]
	return !negationRe.MatchString(s[max(start-24, 0):start])
}

// afterCallRe finds the request after the data: "... call this tool with
// it", "... put it into token", "... must be appended to every request".
var afterCallRe = compile(`^\s?(?:[^.\n]|\.\S){0,60}?(?:(?:call|invoke|pass|send|include|submit|attach|forward|upload|put|paste|insert|add|copy|provide|supply|append) (?:\S+ ){0,4}?(?:with|it|them|its value|this|that)|(?:must|should|needs? to|has to|have to|to) be (?:appended|included|added|sent|passed|attached|copied|forwarded|inserted|uploaded|pasted|provided|supplied))`, true)

// notOwnServer drops "all available tools on this server": a server may
// list its own tools.
func notOwnServer(m *match) (severity.Level, bool) {
	if ownServerRe.MatchString(m.after(40)) {
		return severity.None, false
	}
	return severity.High, true
}

var ownServerRe = compile(`^\s?(?:on|of|in|from|provided by|exposed by) (?:this|the current|our) (?:mcp )?server`, true)

// notFormatting drops "retrieve X and provide it in a structured format":
// the tool describing its output, not a parameter smuggling data.
func notFormatting(m *match) (severity.Level, bool) {
	if formattingRe.MatchString(m.after(40)) {
		return severity.None, false
	}
	return severity.High, true
}

var formattingRe = compile(`^\s?(?:a |an |the )?(?:\S+ )?(?:format|form|way|manner|order|structure|layout)\b`, true)

// notThisTool drops "when this tool is called": the tool may describe
// itself.
func notThisTool(m *match) (severity.Level, bool) {
	if thisToolRe.MatchString(m.text()) {
		return severity.None, false
	}
	return severity.High, true
}
