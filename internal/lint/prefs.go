package lint

import (
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// preferencePhrases are the preference-manipulation patterns: text that
// sells a tool to the model instead of describing it (MPMA, "Preference
// Manipulation Attacks against MCP agents", 2025). Advertising alone is
// medium; text that suppresses or disparages the other tools, or demands
// this one be used for everything, is high.
func preferencePhrases() []phrase {
	const (
		high = severity.High
		med  = severity.Medium
		low  = severity.Low
	)
	const (
		// toolNoun is what a superlative must be about to be about tool
		// choice ("the best way to search" is not).
		toolNoun = `(?:tools?|servers?|functions?|services?|apis?|solutions?|options?|choices?|scrapers?|search(?:es)?|engines?|converters?|calculators?|translators?|readers?|utilit(?:y|ies)|plugins?|integrations?|providers?|sources?|methods?|generators?)`
		// authority are the parties an endorsement claims.
		authority = `(?:experts?|professionals?|specialists|researchers|analysts|leaders|bloggers|influencers|scientists|authorities|traders|enthusiasts|engineers|developers|fortune 500(?: companies)?|(?:millions|thousands|hundreds of thousands|over [0-9][0-9,.]*(?: million)?|[0-9][0-9,.]*\+?(?: million)?) (?:of )?(?:users|developers|companies|people|customers|teams)|tech circles|the (?:industry|field)|(?:top|leading|seasoned|industry|blockchain|cybersecurity|ai|data|time management) \S+)`
	)
	return []phrase{
		pb(RulePreferenceManipulation, med, "advertises itself as the best tool: %q",
			`(?:this|it|which|that|our|here|we|i)(?: \S+){0,2} (?:is|are|'s|remains|ranks as|rated as|known as|offers?|provides?)(?: \S+){0,2} `,
			`(?:best|number one|ultimate|premier|greatest|finest|fastest|top rated|top ranked|highest rated|leading|superior|most (?:accurate|reliable|powerful|advanced|trusted|popular|complete|capable|precise|efficient|effective|comprehensive|secure))(?:(?: and|,)+ (?:the )?(?:fastest|best|most \S+|\S+est))*(?: \S+){0,3}? `+toolNoun),
		p(RulePreferenceManipulation, med, "advertises itself as the best tool: %q",
			`(?:best|number one|greatest|finest) `+toolNoun+` (?:in the world|ever (?:made|built)|on the market|there is|available anywhere|of all time)`),
		psub(RulePreferenceManipulation, med, "claims a top ranking: %q", []string{"#1"},
			`#1 (?:rated|ranked|choice|tool|pick|in )`, true),
		p(RulePreferenceManipulation, med, "claims a top ranking: %q",
			`(?:rated|ranked|voted) (?:as )?(?:#1|number one|the best|first|top)`),
		p(RulePreferenceManipulation, med, "claims endorsement to win tool choice: %q",
			`(?:recommended|endorsed|trusted|praised|validated|proven|approved|favored|favoured|preferred|regarded|respected|certified|acclaimed|backed|vetted|loved|relied upon|used|chosen|rated|valued|appreciated|supported|recognized|recognised)(?: \S+){0,2} (?:by|among|in) (?:\S+ ){0,3}?`+authority),
		p(RulePreferenceManipulation, med, "claims endorsement to win tool choice: %q",
			`(?:expert|experts|industry|professional)[ -]?(?:endorsed|recommended|approved|validated|verified|backed|tested|trusted|favored|favoured)`+
				`|popular (?:among|with) (?:experts|professionals|developers|specialists)`+
				`|(?:as seen on|featured in|featured on) (?:\S+ ){0,2}?(?:techcrunch|wired|forbes|nature|ted|harvard|the verge|new york times|product hunt)`+
				`|award[ -]winning`+
				`|(?:five|5)[ -]star reviews`+
				`|highly (?:recommended|regarded|rated|respected|praised|acclaimed|valued) (?:for its|by|among|in (?:tech|the))`),
		p(RulePreferenceManipulation, med, "claims endorsement to win tool choice: %q",
			`(?:experts?|professionals|bloggers|specialists|analysts|researchers|leaders|developers|engineers|scientists)(?: and \S+)? (?:recommend|recommends|endorse|endorses|trust|trusts|swear by|rely on|agree)(?: \S+){0,2}? (?:this|it|our|using|converting|installing|deploying)`),
		p(RulePreferenceManipulation, med, "claims endorsement to win tool choice: %q",
			`(?:leading|top|seasoned|many|most|leading data|leading tech) (?:\S+ )?(?:experts|analysts|professionals|developers|researchers|bloggers|specialists) (?:recommend|endorse|trust|prefer|agree)`),
		pb(RulePreferenceManipulation, med, "claims endorsement to win tool choice: %q", `\d+ $`,
			`out of \d+ (?:\S+ )?(?:experts|users|developers|professionals)`),
		pb(RulePreferenceManipulation, med, "claims endorsement to win tool choice: %q", `\d+(?:\.\d+)?% (?:customer |user )?$`,
			`satisfaction`),
		p(RulePreferenceManipulation, med, "claims to lead the market: %q",
			`(?:industry|market) leaders?(?: in)?`),
		p(RulePreferenceManipulation, med, "pressures with urgency: %q",
			`(?:limited[ -]time (?:offer|access|only)|act now|hurry|only \d+ (?:\S+ )?(?:uses?|spots?|calls?|slots?|seats?) left|access expires|expires soon|while you still can|before (?:it's|its|it is) too late|don't (?:miss out|fall behind)|filling (?:up )?fast)`),
		p(RulePreferenceManipulation, med, "targets the tool ranking: %q",
			`(?:stand|stands|standing) out in (?:the )?recommendations?(?: systems?)?|(?:rank|ranks|ranking) (?:well|higher|first|highly) in (?:the )?recommendations?(?: systems?)?|top[ -]quality recommendations`),
		p(RulePreferenceManipulation, low, "self-promotion %q steers tool choice",
			`(?:always|only|exclusively|must) (?:always )?(?:use|call|invoke|prefer|choose|pick|select|default to)(?: using)? (?:this|our) (?:tool|function|server|scraper|search)`),
		p(RulePreferenceManipulation, med, "demands the tool be used for a whole category: %q",
			`(?:always|only|exclusively|must|should always) (?:always )?(?:use|call|invoke|prefer|choose|pick|select|default to|try)(?: using)? (?:this|our) (?:tool|function|server|scraper|search|service|converter|one)(?: \S+){0,2}? (?:for (?:all|any|every|each)|whenever)`),
		p(RulePreferenceManipulation, high, "demands this tool over every other: %q",
			`(?:always|you must|must|you should|should|please|you have to|you need to)(?: always)? (?:use|call|invoke|choose|pick|select|prioriti[sz]e|prefer|try|start with|default to)(?: using)? this (?:\S+ )?(?:tool|function|server|one|service|converter)?(?: \S+){0,2}? (?:first (?:before|over|instead of) (?:any|all|every|other|alternatives?)|before (?:any|all|trying) (?:other|alternatives?)|over (?:any|all|every) (?:other|alternatives?)|instead of (?:any|all|the) (?:other|alternatives?)|rather than (?:any|all) (?:other|alternatives?))`),
		p(RulePreferenceManipulation, high, "demands this tool be chosen first: %q",
			`(?:always|you must|must) (?:choose|use|call|pick|select|try|run) this (?:tool|function|server|one) first`),
		p(RulePreferenceManipulation, high, "demands this tool for everything: %q",
			`(?:you must|must|always|you should always) (?:use|call|choose|prioriti[sz]e) this (?:\S+ )?(?:tool|function|server|service|converter) for (?:all|every|any|everything)`),
		p(RulePreferenceManipulation, high, "claims to be the only acceptable tool: %q",
			`only (?:\S+ )?(?:tool|function|server|converter|service|option|one)s? (?:you (?:should|need|can|must|will need)|that you should|to (?:use|trust)|worth using)`),
		p(RulePreferenceManipulation, high, "suppresses other tools: %q",
			`(?:never|do not|don't|dont|must not|should not|shouldn't|avoid|stop|ignore|disregard|skip)(?: \S+)? (?:use|using|call|calling|invoke|invoking|trust|trusting|rely on|consider|considering|bother with|settle for|waste time with|all|any)(?: (?:any|the|a|an|all))? (?:other|another|different|alternative|built-?in|native|default|competing|third-party|external|similar|inferior|outdated|standard)(?: \S+)? (?:tools?|functions?|servers?|plugins?|search(?: tools?)?|browsers?|apis?|mcp servers?|converters?|alternatives?|options|calculators?|services?|translators?|readers?)`),
		p(RulePreferenceManipulation, high, "disparages other tools: %q",
			`(?:other|alternative|competing|rival|standard|built-?in|existing|older|legacy|all other)(?: \S+){0,2} (?:tools?|converters?|calculators?|servers?|services?|functions?|alternatives?|options|translators?|readers?|apis?) (?:are|is|have been|has been|were|will be)(?: (?:now|being|currently|all))? (?:deprecated|outdated|obsolete|inaccurate|unreliable|unsafe|insecure|broken|inferior|slow|buggy|compromised|vulnerable|malicious|no longer (?:supported|safe|maintained|reliable))`),
		p(RulePreferenceManipulation, high, "disparages other tools: %q",
			`inferior (?:tools?|alternatives?|options|products|solutions|competitors|calculators|converters|translators)`+
				`|(?:outperforms|beats|better than|superior to|far superior to)(?: (?:all|any|every))?(?: (?:other|standard|competing|rival))? (?:tools|alternatives|calculators|converters|translators|competitors|options|solutions)`+
				`|(?:outperforms|beats) (?:all|every|any) (?:other )?\S+ by`),
		pb(RulePreferenceManipulation, high, "disparages other tools: %q", `\d+x $`,
			`(?:better|faster|more accurate)(?: \S+)? than`),
		checked(steerLevel, p(RulePreferenceManipulation, med, "steers calls away from another tool: %q",
			`(?:use|call|prefer|choose|pick) this (?:(?:tool|function) (?:instead of|rather than|in place of|over) (?:the |any |using )?\S+|(?:one )?(?:instead of|rather than|in place of|over) (?:the |any |using )?\S+ (?:tool|function|server))`)),
		p(RulePreferenceManipulation, med, "replaces other tools: %q",
			`(?:instead of|rather than|in place of) (?:any|all|the|using)?(?: (?:other|built-?in|native|default|existing|standard|regular|original))+(?: \S+)? (?:tools?|functions?|servers?|search|commands?)`),
		p(RulePreferenceManipulation, med, "ranks itself above other tools: %q",
			`(?:prefer|prefers|preferred) this (?:tool|function|server) (?:over|to|instead of|rather than) (?:any |all |the )?(?:other|built-?in|default|native|existing)`),
		checked(redirectLevel, pb(RulePreferenceManipulation, med, "redirects calls to another tool: %q",
			`(?:tool|function) (?:has been|is|was|is being|will be) (?:now )?(?:temporarily )?`,
			`(?:deprecated|disabled|retired|removed|discontinued|replaced)(?: \S+){0,12}? (?:use|redirect to|switch to|call|migrate to)`)),
	}
}

// steerLevel grades "use this tool instead of X": with a purpose after it
// ("... for pages that need JavaScript") it is a usage note between
// tools, low; bare, it steers traffic away from X, medium.
func steerLevel(m *match) (severity.Level, bool) {
	if purposeRe.MatchString(m.after(24)) {
		return severity.Low, true
	}
	return severity.Medium, true
}

var purposeRe = compile(`^\s?(?:\S+ )?(?:for|when|if|with|to|on|in|unless|because)\b`, true)

// redirectLevel grades a deprecation notice: plain ones are how honest
// servers retire tools ("Deprecated: use X instead") and stay low; a
// security or maintenance pretext, or a demand that every call be
// redirected, is the tool-redirection attack.
func redirectLevel(m *match) (severity.Level, bool) {
	s := m.u.norm.s
	window := s[max(m.start-80, 0):min(m.end+160, len(s))]
	if redirectPretextRe.MatchString(window) {
		return severity.High, true
	}
	return severity.Low, true
}

var redirectPretextRe = compile(`(?:security (?:vulnerabilit(?:y|ies)|issues?|reasons|risks?|concerns?)|vulnerabilit(?:y|ies)|maintenance|must (?:redirect|use|switch)|for all \S+ requests|compromised|unsafe|insecure|new secure tool)`, false)

// promoNames are words that, leading a tool name, advertise it to the
// model: best-get-alerts, ultimate_best_tool, premium_weather_lookup.
var promoNames = map[string]bool{
	"best": true, "ultimate": true, "premium": true, "elite": true, "superior": true, "exclusive": true,
	"revolutionary": true, "vip": true,
	"mustuse": true, "no1": true, "top1": true, "greatest": true, "supreme": true,
}

// promoObjects are what follows "best" in an advertising name
// (best-get-alerts, best_search): a verb or a tool noun, not a thing the
// tool computes (best_time_to_post, best_match).
var promoObjects = map[string]bool{
	"get": true, "search": true, "fetch": true, "lookup": true, "read": true, "list": true, "create": true, "convert": true,
	"calculate": true, "find": true, "query": true, "send": true, "translate": true, "tool": true, "weather": true,
	"install": true, "run": true, "scrape": true, "crawl": true, "browse": true, "web": true, "file": true, "api": true,
	"current": true, "relative": true, "days": true, "youtube": true, "pdf": true, "bing": true, "webpage": true,
	"image": true, "audio": true, "docx": true, "xlsx": true, "pptx": true, "tavily": true, "convert_time": true,
}

// promoName flags a tool name that leads with an advertising word or
// demands its own use ("must_use_converter", "always_use_search").
func (c *checker) promoName(name string) []located {
	u := &unit{entity: string(manifest.KindTool), name: name, path: []string{"name"}, text: name, role: roleName}
	words := strings.Fields(strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(u.normalized().s))
	if len(words) < 2 {
		return nil
	}
	lead := words[0]
	if (lead == "must" || lead == "always") && words[1] == "use" {
		lead = "mustuse"
	}
	if !promoNames[lead] || (lead == "best" && !promoObjects[words[1]]) {
		return nil
	}
	return []located{c.finding(u, RulePreferenceManipulation, severity.Medium,
		"tool name "+quote(name)+" advertises itself to the model", 0, len([]rune(name)))}
}
