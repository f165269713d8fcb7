package registry

// Redis layout. Every key of one model carries the hash tag {name}, so a
// model's WATCH/MULTI stays in one cluster slot.
//
//	sluice:models:names                 set of model names
//	sluice:models:{NAME}:state          hash: seq, production, canary, canary_percent,
//	                                    shadow, shadow_fraction, updated (unix ms)
//	sluice:models:{NAME}:history        list of production versions, oldest first
//	sluice:models:{NAME}:versions       sorted set of versions, scored by number
//	sluice:models:{NAME}:v:VERSION      hash: the Version's fields
//	sluice:models:{NAME}:v:VERSION:onnx string: the ONNX bytes (absent with a uri)
//	sluice:models:{NAME}:workers        hash: worker → its WorkerState as JSON (expires
//	                                    with the last worker's writes)
//
// Changes are announced on the channel sluice:models:events:NAME.
const (
	keyPrefix     = "sluice:models:"
	namesKey      = keyPrefix + "names"
	channelPrefix = keyPrefix + "events:"
	historyLen    = 100
)

// Fields of the state hash.
const (
	fSeq            = "seq"
	fProduction     = "production"
	fCanary         = "canary"
	fCanaryPercent  = "canary_percent"
	fShadow         = "shadow"
	fShadowFraction = "shadow_fraction"
	fUpdated        = "updated"
)

// Fields of a version hash.
const (
	fVersion   = "version"
	fStage     = "stage"
	fSHA256    = "sha256"
	fSize      = "size"
	fURI       = "uri"
	fSignature = "signature"
	fProfile   = "profile"
	fMetrics   = "metrics"
	fCreated   = "created"
	fRefused   = "refused" // the last refusal by a worker, for operators
)

func modelKey(name, suffix string) string { return keyPrefix + "{" + name + "}:" + suffix }

func stateKey(name string) string    { return modelKey(name, "state") }
func historyKey(name string) string  { return modelKey(name, "history") }
func versionsKey(name string) string { return modelKey(name, "versions") }
func versionKey(name, v string) string {
	return modelKey(name, "v:"+v)
}
func blobKey(name, v string) string { return modelKey(name, "v:"+v+":onnx") }

// Channel is the Redis pub/sub channel on which changes to model name are
// announced, as JSON Events. It is safe for concurrent use.
func Channel(name string) string { return channelPrefix + name }
