// Package email sends alerts by SMTP (go-mail) as multipart/alternative
// messages: a text part and an HTML part built only from tables and inline
// CSS, with nothing remote, so Gmail and Outlook show them as sent.
//
// Threading needs no state: the Message-ID of an incident's first message
// is derived from the notifier name and the incident id, reminders and the
// resolution carry In-Reply-To and References pointing at it, and the
// subject stays the same for the whole incident ("Re: " for the
// resolution).
//
// TLS follows smtp.tls: "starttls" (the server must offer STARTTLS),
// "tls" (TLS from the first byte, usually port 465) or "none". The password
// is read from its secret at each send, never sent over an unencrypted
// connection to a remote host, and never appears in errors or logs.
//
// email renders and sends one alert; it does not queue or retry.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/version"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/delivery"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// DefaultTimeout bounds each SMTP connection.
const DefaultTimeout = 30 * time.Second

// Options are an email notifier's dependencies.
type Options struct {
	// Logger receives delivery notes; nil discards them.
	Logger *slog.Logger
	// TLSConfig is the base TLS configuration, e.g. RootCAs for a private
	// CA; nil uses the system roots. ServerName is always the SMTP host.
	TLSConfig *tls.Config
	// Timeout bounds each connection; 0 means DefaultTimeout.
	Timeout time.Duration
	// HELO is the name sent in EHLO; empty lets go-mail choose.
	HELO string
}

// Notifier sends alerts to the configured recipients.
type Notifier struct {
	name     string
	host     string
	port     int
	policy   string
	username string
	password config.Secret
	from     string
	to       []string
	domain   string
	opts     Options
	log      *slog.Logger
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns the email notifier cfg describes. The password is read at
// each send.
func New(cfg config.Notifier, opts Options) (*Notifier, error) {
	switch {
	case cfg.Type != config.NotifierEmail:
		return nil, fmt.Errorf("email notifier %s: type is %q, not email", cfg.Name, cfg.Type)
	case cfg.SMTP == nil || cfg.SMTP.Host == "":
		return nil, fmt.Errorf("email notifier %s: smtp.host is required", cfg.Name)
	case cfg.From == "" || len(cfg.To) == 0:
		return nil, fmt.Errorf("email notifier %s: from and to are required", cfg.Name)
	}
	m := cfg.SMTP
	policy := m.TLS
	if policy == "" {
		policy = config.SMTPStartTLS
	}
	if policy != config.SMTPStartTLS && policy != config.SMTPTLS && policy != config.SMTPNone {
		return nil, fmt.Errorf("email notifier %s: unknown smtp.tls %q (use starttls, tls or none)", cfg.Name, policy)
	}
	port := m.Port
	if port == 0 {
		port = map[string]int{config.SMTPStartTLS: 587, config.SMTPTLS: 465, config.SMTPNone: 25}[policy]
	}
	if m.Password.IsSet() && m.Username == "" {
		return nil, fmt.Errorf("email notifier %s: smtp.password needs smtp.username", cfg.Name)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Notifier{
		name: cfg.Name, host: m.Host, port: port, policy: policy,
		username: m.Username, password: m.Password,
		from: cfg.From, to: append([]string(nil), cfg.To...), domain: idDomain(cfg.From),
		opts: opts,
		log:  delivery.Logger(opts.Logger, cfg.Name),
	}, nil
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

func (n *Notifier) addr() string { return net.JoinHostPort(n.host, strconv.Itoa(n.port)) }

// Message builds the message for a.
func (n *Notifier) Message(a *notifiers.Alert) (*mail.Msg, error) {
	v := newView(a, n.name)
	htmlPart, err := htmlBody(v)
	if err != nil {
		return nil, fmt.Errorf("email notifier %s: %w", n.name, err)
	}
	m := mail.NewMsg()
	if err := m.From(n.from); err != nil {
		return nil, fmt.Errorf("email notifier %s: from: %w", n.name, err)
	}
	if err := m.To(n.to...); err != nil {
		return nil, fmt.Errorf("email notifier %s: to: %w", n.name, err)
	}
	m.Subject(Subject(a))
	id, parent := MessageIDs(n.name, n.domain, a)
	m.SetMessageIDWithValue(id)
	if parent != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+parent+">")
		m.SetGenHeader(mail.HeaderReferences, "<"+parent+">")
	}
	date := a.At
	if date.IsZero() {
		date = time.Now()
	}
	m.SetDateWithValue(date)
	m.SetUserAgent("mcpdrift/" + version.Get().Version)
	// RFC 3834: no vacation replies or bounces-as-replies to alerts.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	if a.Incident != "" {
		m.SetGenHeader(mail.Header("X-Mcpdrift-Incident"), escape.Truncate(render.Line(a.Incident), 400))
	}
	m.SetBodyString(mail.TypeTextPlain, textBody(v))
	m.AddAlternativeString(mail.TypeTextHTML, htmlPart)
	return m, nil
}

// Notify implements notifiers.Notifier.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	msg, err := n.Message(a)
	if err != nil {
		return false, err
	}
	password, err := n.password.Reveal()
	if err != nil {
		return false, fmt.Errorf("email notifier %s: smtp.password: %w", n.name, err)
	}
	var secrets []string
	if password != "" {
		secrets = []string{password}
	}

	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if n.opts.TLSConfig != nil {
		tlsCfg = n.opts.TLSConfig.Clone()
	}
	tlsCfg.ServerName = n.host
	opts := []mail.Option{mail.WithPort(n.port), mail.WithTimeout(n.opts.Timeout), mail.WithTLSConfig(tlsCfg)}
	if n.opts.HELO != "" {
		opts = append(opts, mail.WithHELO(n.opts.HELO))
	}
	switch n.policy {
	case config.SMTPTLS:
		opts = append(opts, mail.WithSSL())
	case config.SMTPNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if n.username != "" {
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(n.username), mail.WithPassword(password))
	}
	client, err := mail.NewClient(n.host, opts...)
	if err != nil {
		return false, delivery.Scrub(fmt.Errorf("email notifier %s: smtp client for %s: %w", n.name, n.addr(), err), secrets)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		retry, cerr := n.classify(err)
		return retry, delivery.Scrub(cerr, secrets)
	}
	n.log.Debug("alert mailed", "recipients", len(n.to))
	return false, nil
}

// classify turns a go-mail error into the Notifier contract, explaining
// TLS and authentication failures in terms of the config.
func (n *Notifier) classify(err error) (bool, error) {
	what := fmt.Sprintf("email notifier %s: smtp server %s", n.name, n.addr())
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		tpErr    *textproto.Error
		sendErr  *mail.SendError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true, fmt.Errorf("%s: %w", what, err)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return false, fmt.Errorf("%s: the server at %s does not offer STARTTLS; set smtp.tls: none only on a trusted network", what, n.addr())
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return false, fmt.Errorf("%s: the TLS certificate of %s cannot be trusted: %w; fix the server's certificate or trust its CA (SSL_CERT_FILE)", what, n.host, err)
	case errors.As(err, &record):
		hint := "smtp.tls: tls expects TLS from the first byte (usually port 465); use smtp.tls: starttls for a server that upgrades with STARTTLS (usually port 587)"
		return false, fmt.Errorf("%s: the server did not answer with TLS; %s", what, hint)
	case errors.Is(err, smtp.ErrUnencrypted):
		return false, fmt.Errorf("%s: refusing to send the SMTP password over an unencrypted connection; use smtp.tls: starttls or tls", what)
	case errors.Is(err, mail.ErrPlainAuthNotSupported), errors.Is(err, mail.ErrLoginAuthNotSupported),
		errors.Is(err, mail.ErrNoSupportedAuthDiscovered), strings.Contains(err.Error(), "does not support SMTP AUTH"):
		return false, fmt.Errorf("%s: the server offers no usable authentication (PLAIN or LOGIN) for smtp.username: %w", what, err)
	case errors.As(err, &sendErr):
		return sendErr.IsTemp(), fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &tpErr):
		if tpErr.Code == 535 || tpErr.Code == 534 || tpErr.Code == 530 {
			return false, fmt.Errorf("%s: authentication as %s failed: %w", what, escape.Line(n.username), err)
		}
		return tpErr.Code/100 == 4, fmt.Errorf("%s: %w", what, err)
	}
	// Network errors and anything unknown: another attempt may work.
	return true, fmt.Errorf("%s: %w", what, err)
}
