package mailin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// AttachmentsFolder is where, under the receiving prefix, the attachments are stored
// apart: <prefix>attachments/<hex SHA-256 of the bytes>. (SES's message IDs, the raw
// messages' keys, have no slash.)
const AttachmentsFolder = "attachments/"

// storeAttachments stores each distinct file of m apart (at most
// pg.MaxStoredAttachments of them, skipping empty ones) and notes its key in in. The
// bytes are the parser's: nothing is copied, so a 39 MB attachment costs no more
// memory than its parse did.
func (h *Handler) storeAttachments(ctx context.Context, m *Message, in *pg.InboundMessage) error {
	if h.Files == nil || len(m.Attachments) != len(in.Attachments) {
		return nil
	}
	stored := map[string]bool{}
	for i, a := range m.Attachments {
		if len(a.Content) == 0 {
			continue
		}
		sum := sha256.Sum256(a.Content)
		key := h.Prefix + AttachmentsFolder + hex.EncodeToString(sum[:])
		if !stored[key] {
			if len(stored) >= pg.MaxStoredAttachments {
				continue
			}
			if err := h.Files.PutAttachment(ctx, key, a.Content); err != nil {
				return fmt.Errorf("store attachment %d of %s: %w", i+1, in.ID, err)
			}
			stored[key] = true
		}
		in.Attachments[i].Key = key
	}
	return nil
}
