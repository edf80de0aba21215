package lint

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// multilingualPhrases are the highest-signal rules in French, German,
// Spanish, Portuguese, Chinese, Japanese and Russian: overriding the
// model's instructions, hiding from the user, asking for secrets or the
// conversation, and preference manipulation. They are a small, hand-made
// set: a payload translated into another language keeps these few
// shapes, and anything further needs a model, not a phrase list (see
// docs/lint.md).
//
// Latin-script patterns are written without accents, as normalization
// drops them. Patterns in other scripts are normalized when built (see
// pn), so they match normalized text whatever its compatibility forms.
//
//nolint:misspell // the words are French, Spanish and Portuguese, not misspelt English
func multilingualPhrases() []phrase {
	const (
		crit = severity.Critical
		high = severity.High
		med  = severity.Medium
	)
	return []phrase{
		// French.
		p(RulePromptOverride, crit, "instruction override (French) %q",
			`(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|neglige|negligez|ne tiens pas compte|ne tenez pas compte)(?: (?:toutes|tous|les|des|de|vos|tes|ses|ces|consignes|instructions|regles)){0,3} (?:instructions?|consignes?|regles|directives)(?: \S+){0,2}? (?:precedentes?|anterieures?|initiales?|du systeme|d'origine|originales?)`),
		p(RuleConcealment, crit, "concealment from the user (French): %q",
			`(?:ne|n') (?:le |lui |en |leur )?(?:dis|dites|mentionne|mentionnez|informe|informez|revele|revelez|montre|montrez|signale|signalez|parle|parlez|previens|prevenez)(?: \S+){0,2} (?:pas|jamais|rien)(?: \S+){0,3} (?:a |aux )?(?:l'utilisateur|utilisateurs?|l'usager)`+
				`|sans (?:le |en |lui |rien )?(?:dire|mentionner|informer|prevenir|avertir|signaler)(?: \S+){0,2} (?:a )?(?:l'utilisateur|utilisateurs?)`),
		pb(RuleConcealment, crit, "concealment from the user (French): %q", `(?:l')?$`,
			`utilisateur ne doit (?:pas|jamais|rien) (?:le |en )?(?:savoir|voir|remarquer|apprendre|etre informe)`),
		p(RuleDataHarvest, high, "asks for secrets or the conversation (French): %q",
			`(?:inclus|incluez|inclure|passe|passez|passer|envoie|envoyez|envoyer|fournis|fournissez|ajoute|ajoutez|copie|copiez|lis|lisez|lire|joins|joignez)(?: \S+){0,5} (?:l'historique (?:de la|des) conversations?|historique (?:de la|des) conversations?|mots? de passe|cles? (?:d'api|api|privees?|ssh)|jetons? d'acces|variables d'environnement|identifiants|invite systeme|prompt systeme)`),
		p(RulePreferenceManipulation, med, "advertises itself as the best tool (French): %q",
			`meilleure? (?:outil|service|fonction|serveur)(?: \S+){0,2}? (?:au monde|disponible|du marche)`),
		p(RulePreferenceManipulation, high, "demands this tool over every other (French): %q",
			`(?:utilise|utilisez|utiliser|choisis|choisissez) (?:toujours|uniquement|exclusivement) cet outil|(?:n'utilise|n'utilisez|ne jamais utiliser|n'utilisez jamais)(?: \S+)? (?:pas |jamais |aucun )?(?:d'autres|les autres|autre) outils?`),

		// German.
		p(RulePromptOverride, crit, "instruction override (German) %q",
			`(?:ignoriere|ignorieren|ignoriert|vergiss|vergessen|missachte|missachten)(?: (?:sie|alle|die|deine|ihre|bisherigen|vorherigen|vorigen|fruheren|obigen|ursprunglichen|anderen|samtliche)){1,4} (?:anweisungen|instruktionen|regeln|vorgaben|befehle|richtlinien|systemanweisungen)`),
		p(RuleConcealment, crit, "concealment from the user (German): %q",
			`(?:erwahne|erwahnen|sag|sage|sagen|erzahl|erzahle|erzahlen|verrate|verraten|zeige|zeigen|teile|teilen|informiere|informieren)(?: \S+){0,5} (?:nicht|nichts|niemals|keinesfalls)(?: \S+){0,4} (?:benutzer|nutzer|anwender|benutzerin|nutzerin|user)`+
				`|(?:erwahne|erwahnen|sag|sage|sagen|erzahl|erzahle|verrate|zeige|teile|informiere)(?: \S+){0,2} (?:dem|den|der) (?:benutzer|nutzer|anwender|user)(?: \S+){0,3} (?:nicht|nichts|niemals)`+
				`|ohne (?:\S+ ){0,2}(?:den|dem|die) (?:benutzer|nutzer|anwender|user) (?:zu )?(?:informieren|benachrichtigen|fragen|warnen)`+
				`|verschweige|verschweigen|verheimliche|verheimlichen`),
		pb(RuleConcealment, crit, "concealment from the user (German): %q", `(?:der|die) $`,
			`(?:benutzer|nutzer|anwender)(?:in)? (?:darf|soll|muss) (?:nichts?|niemals|es nicht|davon nichts) (?:\S+ ){0,2}?(?:wissen|erfahren|merken|sehen|bemerken)`),
		p(RuleDataHarvest, high, "asks for secrets or the conversation (German): %q",
			`(?:fuge|fugen|gib|geben|sende|senden|schicke|schicken|ubergib|ubergeben|kopiere|kopieren|lies|lese|lesen|hange|hangen|ubermittle|ubermitteln)(?: \S+){0,5} (?:gesprachsverlauf|chatverlauf|konversationsverlauf|verlauf des gesprachs|passworter|passwort|kennworter|kennwort|api-schlussel|api schlussel|zugangsdaten|privaten schlussel|private schlussel|ssh-schlussel|umgebungsvariablen|systemprompt|system-prompt)`),
		p(RulePreferenceManipulation, med, "advertises itself as the best tool (German): %q",
			`beste (?:werkzeug|tool)(?: \S+){0,2}? (?:der welt|uberhaupt|auf dem markt|verfugbar)`),
		p(RulePreferenceManipulation, high, "demands this tool over every other (German): %q",
			`(?:verwende|verwenden|benutze|benutzen|nutze|nutzen)(?: sie)? (?:immer|stets|ausschliesslich|nur) (?:dieses|das|dieses eine) (?:werkzeug|tool)|(?:verwende|verwenden|benutze|benutzen|nutze|nutzen)(?: sie)? (?:keine|niemals) (?:anderen|andere) (?:werkzeuge|tools)`),

		// Spanish.
		p(RulePromptOverride, crit, "instruction override (Spanish) %q",
			`(?:ignora|ignore|ignoren|ignorar|olvida|olvide|olviden|olvidar|descarta|descarte|omite|omita)(?: (?:todas|todos|las|los|tus|sus|cualquier|toda|la)){0,3} (?:instrucciones|indicaciones|reglas|ordenes|directrices|instruccion)(?: \S+){0,2}? (?:anteriores|previas|iniciales|del sistema|originales|precedentes)`),
		p(RuleConcealment, crit, "concealment from the user (Spanish): %q",
			`no (?:le |les )?(?:digas|diga|digan|menciones|mencione|informes|informe|cuentes|cuente|muestres|muestre|reveles|revele|avises|avise|comentes|comente)(?: \S+){0,3} (?:al|a los|a la) usuarios?`+
				`|sin (?:\S+ )?(?:decirle|decir|informar|avisar|notificar|mencionar|decirselo|avisarle|informarle)(?: \S+){0,2} (?:al )?usuario`),
		pb(RuleConcealment, crit, "concealment from the user (Spanish): %q", `(?:el )?$`,
			`usuario no (?:debe|puede|tiene que|necesita|deberia) (?:saber|enterarse|ver|notar|saberlo|conocer)`),
		p(RuleDataHarvest, high, "asks for secrets or the conversation (Spanish): %q",
			`(?:incluye|incluya|incluir|pasa|pase|pasar|envia|envie|enviar|proporciona|proporcione|adjunta|adjunte|copia|copie|lee|lea|agrega|agregue|anade|anada)(?: \S+){0,5} (?:el historial (?:de la|del) (?:conversacion|chat)|historial de (?:conversacion|chat)|contrasenas?|claves? (?:de api|api|privadas?|ssh)|tokens? de acceso|variables de entorno|credenciales|prompt del sistema|instrucciones del sistema)`),
		p(RulePreferenceManipulation, med, "advertises itself as the best tool (Spanish): %q",
			`mejor (?:herramienta|servicio|servidor)(?: \S+){0,2}? (?:del mundo|disponible|del mercado)`),
		p(RulePreferenceManipulation, high, "demands this tool over every other (Spanish): %q",
			`(?:usa|use|utiliza|utilice|elige|elija) siempre esta herramienta|(?:usa|use|utiliza|utilice) (?:solo|unicamente|exclusivamente) esta herramienta|no (?:uses|use|utilices|utilice) (?:otras|ninguna otra|ningunas otras) herramientas?`),

		// Portuguese.
		p(RulePromptOverride, crit, "instruction override (Portuguese) %q",
			`(?:ignore|ignora|ignorar|esqueca|esquece|esquecer|desconsidere|desconsidera|descarte)(?: (?:todas|todos|as|os|suas|quaisquer|tuas)){0,3} (?:instrucoes|regras|orientacoes|ordens|diretrizes|instrucao)(?: \S+){0,2}? (?:anteriores|previas|iniciais|do sistema|originais)`),
		p(RuleConcealment, crit, "concealment from the user (Portuguese): %q",
			`nao (?:\S+ )?(?:diga|digas|conte|contes|mencione|menciones|informe|mostre|revele|avise|fale)(?: \S+){0,3} (?:ao|aos|para o|a o) (?:usuarios?|utilizador(?:es)?)`+
				`|sem (?:\S+ )?(?:dizer|contar|informar|avisar|notificar|mencionar)(?: \S+){0,2} (?:ao )?(?:usuario|utilizador)`),
		pb(RuleConcealment, crit, "concealment from the user (Portuguese): %q", `(?:o )?$`,
			`(?:usuario|utilizador) nao (?:deve|pode|precisa) (?:saber|ver|perceber|notar|tomar conhecimento)`),
		p(RuleDataHarvest, high, "asks for secrets or the conversation (Portuguese): %q",
			`(?:inclua|incluir|passe|passar|envie|enviar|forneca|fornecer|anexe|anexar|copie|copiar|leia|ler|adicione|adicionar)(?: \S+){0,5} (?:o historico (?:da|de) conversas?|historico (?:da|de) (?:conversa|chat)|senhas?|chaves? (?:de api|api|privadas?|ssh)|tokens? de acesso|variaveis de ambiente|credenciais|prompt do sistema)`),
		p(RulePreferenceManipulation, med, "advertises itself as the best tool (Portuguese): %q",
			`melhor (?:ferramenta|servico|servidor)(?: \S+){0,2}? (?:do mundo|disponivel|do mercado)`),
		p(RulePreferenceManipulation, high, "demands this tool over every other (Portuguese): %q",
			`(?:use|usa|utilize|utiliza|escolha) sempre esta ferramenta|(?:use|utilize) (?:apenas|somente|exclusivamente) esta ferramenta|nao (?:use|utilize|uses) (?:outras|nenhuma outra) ferramentas?`),

		// Chinese.
		pn(RulePromptOverride, crit, "instruction override (Chinese) %q", "忽略 无视 忽视 忘记 不要理会 不必理会 抛开",
			`(?:忽略|无视|忽视|忘记|不要理会|不必理会|抛开)[^\n]{0,10}?(?:指令|指示|规则|提示词|命令|设定)`, true),
		pn(RuleConcealment, crit, "concealment from the user (Chinese): %q", "不要 别 切勿 请勿 不得 不可 无需 不用 不必 千万不要",
			`(?:不要|别|切勿|请勿|不得|不可|无需|不用|不必|千万不要)(?:向|对|跟|和)?(?:告诉|告知|通知|提及|提醒|透露|让|提到)?[^\n]{0,4}?(?:用户|使用者)`, true),
		pn(RuleConcealment, crit, "concealment from the user (Chinese): %q", "用户 使用者 对用户 向用户",
			`(?:用户|使用者)(?:不应|不能|不得|不需要|无需|不必)(?:知道|知晓|看到|察觉|得知)|(?:对|向)(?:用户|使用者)(?:隐瞒|保密)`, true),
		pn(RuleDataHarvest, high, "asks for secrets or the conversation (Chinese): %q", "发送 包含 附上 传入 传递 提供 复制 上传 附加 把",
			`(?:发送|包含|附上|传入|传递|提供|复制|上传|附加|把)[^\n]{0,12}?(?:私钥|密钥|密码|口令|凭证|凭据|令牌|环境变量|对话历史|聊天记录|聊天历史|系统提示)`, true),
		pn(RuleDataHarvest, high, "asks for secrets (Chinese): %q", "读取 获取",
			`(?:读取|获取)[^\n]{0,8}?(?:私钥|密码|口令|凭证|凭据|环境变量|系统提示)`, true),
		pn(RulePreferenceManipulation, med, "advertises itself as the best tool (Chinese): %q", "最好 最佳 最强 最准确 最可靠 世界上最好",
			`(?:最好|最佳|最强|最准确|最可靠|世界上最好)的?[^\n]{0,4}?(?:工具|服务)`, true),
		pn(RulePreferenceManipulation, high, "demands this tool over every other (Chinese): %q", "总是 始终 务必 一定要 必须 只能 不要使用 不要调用",
			`(?:总是|始终|务必|一定要|必须|只能)(?:使用|调用|选择)(?:这个|此|本)(?:工具|服务)|不要(?:使用|调用)(?:其他|别的|其它)(?:工具|服务)`, true),

		// Japanese.
		pn(RulePromptOverride, crit, "instruction override (Japanese) %q", "以前の 前の これまでの 上記の 全ての すべての システムの 指示 命令 ルール",
			`(?:(?:以前|前|これまで|上記|全て|すべて|システム)の)?(?:指示|命令|ルール|プロンプト|指令)を?(?:すべて)?(?:無視|忘れ)`, true),
		pn(RuleConcealment, crit, "concealment from the user (Japanese): %q", "ユーザー ユーザ 利用者",
			`(?:ユーザー|ユーザ|利用者)に(?:は)?(?:言わ|伝え|知らせ|通知し|報告し|教え|見せ|明かさ|気づかれ|知られ)(?:ない|ず)`, true),
		pn(RuleDataHarvest, high, "asks for secrets or the conversation (Japanese): %q", "秘密鍵 パスワード 認証情報 資格情報 環境変数 会話履歴 チャット履歴 システムプロンプト アクセストークン",
			`(?:秘密鍵|ssh ?鍵|パスワード|apiキー|api ?キー|認証情報|資格情報|環境変数|会話履歴|チャット履歴|システムプロンプト|アクセストークン)[^\n]{0,32}?(?:送信|含め|渡し|添付|コピー|入れ|アップロード)`, true),
		pn(RuleDataHarvest, high, "asks for secrets (Japanese): %q", "秘密鍵 パスワード 認証情報 資格情報 環境変数 システムプロンプト",
			`(?:秘密鍵|パスワード|認証情報|資格情報|環境変数|システムプロンプト)を(?:読み|取得し)`, true),
		pn(RulePreferenceManipulation, med, "advertises itself as the best tool (Japanese): %q", "最高の 最良の 最強の 世界一の ナンバーワンの",
			`(?:最高|最良|最強|世界一|ナンバーワン)の(?:ツール|サービス)`, true),
		pn(RulePreferenceManipulation, high, "demands this tool over every other (Japanese): %q", "常に 必ず 他の",
			`(?:常に|必ず)(?:この|本)ツールを(?:使用|使|選)|他の(?:ツール)を(?:使わ|使用し)ない`, true),

		// Russian.
		pn(RulePromptOverride, crit, "instruction override (Russian) %q", "игнорируй игнорируйте проигнорируй проигнорируйте забудь забудьте отбрось отбросьте",
			`(?:игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|отбрось|отбросьте)(?: \S+){0,3} (?:инструкци|указани|правил|команд)\S*`, false),
		pn(RuleConcealment, crit, "concealment from the user (Russian): %q", "не ничего",
			`(?:не|ничего не) (?:говори|говорите|сообщай|сообщайте|упоминай|упоминайте|рассказывай|рассказывайте|показывай|показывайте|раскрывай|раскрывайте|пиши|пишите)(?: \S+){0,3} (?:пользовател|юзер)\S*`, false),
		pn(RuleConcealment, crit, "concealment from the user (Russian): %q", "пользователь пользователю без",
			`(?:пользователь|пользователю) не (?:должен|нужно|следует|надо|стоит) (?:знать|видеть|замечать|узнать|сообщать)|без (?:ведома|уведомления|согласия) пользовател\S*`, false),
		pn(RuleDataHarvest, high, "asks for secrets or the conversation (Russian): %q", "прочитай прочтите прочти считай отправь отправьте передай передайте приложи включи включите скопируй добавь загрузи",
			`(?:прочитай|прочтите|прочти|считай|отправь|отправьте|передай|передайте|приложи|включи|включите|скопируй|добавь|загрузи)(?: \S+){0,5} (?:(?:приватн|закрыт|секретн)\S* ключ\S*|ssh[- ]ключ\S*|парол\S*|api[- ]ключ\S*|ключ\S* api|токен\S*|переменн\S* окружения|истори\S* (?:переписки|чата|диалога|разговора|сообщений)|системн\S* промпт\S*|учетн\S* данн\S*)`, false),
		pn(RulePreferenceManipulation, med, "advertises itself as the best tool (Russian): %q", "лучший лучшая самый",
			`(?:лучший|лучшая|самый лучший|самый точный|самый надежный) (?:инструмент|сервис)\S*`, false),
		pn(RulePreferenceManipulation, high, "demands this tool over every other (Russian): %q", "всегда обязательно не",
			`(?:всегда|обязательно) (?:используй|используйте|вызывай|вызывайте|выбирай|выбирайте) (?:этот|данный) инструмент|не (?:используй|используйте) (?:другие|иные) инструменты`, false),
	}
}

// pn builds a phrase in a script other than Latin: its pattern and its
// literal anchors are normalized as text is, so they match whatever
// compatibility forms the text uses. With cjk the pattern runs raw (no
// word boundaries) and anchors may start inside a run of text.
func pn(rule string, level severity.Level, msg, anchors, src string, cjk bool) phrase {
	var subs []string
	for _, a := range strings.Fields(anchors) {
		subs = append(subs, normPattern(a))
	}
	return phrase{rule: rule, level: level, msg: msg, re: anchored(normPattern(src), cjk), subs: subs, midWord: cjk}
}

// normPattern normalizes the runs of non-ASCII characters of a pattern
// source; its regexp syntax is ASCII and stays as written.
func normPattern(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); {
		if src[i] < utf8.RuneSelf {
			b.WriteByte(src[i])
			i++
			continue
		}
		j := i
		for j < len(src) && src[j] >= utf8.RuneSelf {
			j++
		}
		b.WriteString(normalize(src[i:j], false, false).s)
		i = j
	}
	out := b.String()
	regexp.MustCompile(out) // fail at start-up, not at the first match
	return out
}
