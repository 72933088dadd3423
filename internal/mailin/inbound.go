package mailin

import (
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Inbound is what the service keeps of a message SES received (sesID, stored at
// rawKey, for the envelope's recipients).
func (m *Message) Inbound(sesID, rawKey string, recipients []string, received time.Time) pg.InboundMessage {
	in := pg.InboundMessage{
		ID: sesID, RawKey: rawKey, Received: received, From: m.From, FromName: m.FromName,
		ReturnPath: m.ReturnPath, NullSender: m.NullSender, Subject: m.Subject, MessageID: m.MessageID,
		InReplyTo: m.InReplyTo, References: m.References, Text: m.NewText, Automatic: m.Automatic, Report: m.Report,
		Verdicts: pg.MailVerdicts{Spam: m.Verdicts.Spam, Virus: m.Verdicts.Virus, SPF: m.Verdicts.SPF, DKIM: m.Verdicts.DKIM, DMARC: m.Verdicts.DMARC, DMARCPolicy: m.Verdicts.DMARCPolicy},
	}
	for _, r := range recipients {
		in.Recipients = append(in.Recipients, pg.OneLine(r, 254))
	}
	for _, a := range m.Attachments {
		in.Attachments = append(in.Attachments, pg.InboundAttachment{Name: a.Name, Type: a.Type, Size: a.Size})
	}
	if in.Text == "" {
		in.Text = m.Text
	}
	return in
}
