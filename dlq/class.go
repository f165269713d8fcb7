package dlq

// Class is why one input record was dead-lettered. Its string is the wire
// value (header sluice.error.class, label reason).
type Class string

// The classes of records that cannot be read (schemas.DecodeError).
const (
	Empty         Class = "empty"          // no bytes at all (a tombstone)
	ShortFrame    Class = "short_frame"    // fewer bytes than the Confluent frame
	BadMagic      Class = "bad_magic"      // the frame does not start with 0x00
	UnknownSchema Class = "unknown_schema" // the registry has no such schema id
	Decode        Class = "decode"         // the body does not decode with its schema
	TooLarge      Class = "too_large"      // larger than pipeline.max_record_bytes
)

// The classes of records that cannot become a tensor row
// (inference.MapError), or whose identifying fields cannot be read.
const (
	MissingField    Class = "missing_field"    // null or absent, and no impute value
	WrongType       Class = "wrong_type"       // a value of a type the input cannot take
	NonFinite       Class = "non_finite"       // NaN or an infinity
	UnknownCategory Class = "unknown_category" // a category outside the vocabulary
	BadLength       Class = "bad_length"       // an array of the wrong length
)

// The classes the worker decides itself.
const (
	Inference      Class = "inference"        // ONNX Runtime failed on the row alone
	OutputTooLarge Class = "output_too_large" // its prediction is larger than the output topic takes
)

// Classes is every class, in a fixed order: the values the reason label of
// sluice_dead_letters_total is created with.
var Classes = []Class{
	Empty, ShortFrame, BadMagic, UnknownSchema, Decode, TooLarge,
	MissingField, WrongType, NonFinite, UnknownCategory, BadLength, Inference,
	OutputTooLarge,
}

// Known reports whether c is one of Classes.
func Known(c Class) bool {
	for _, k := range Classes {
		if k == c {
			return true
		}
	}
	return false
}
