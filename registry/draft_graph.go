package registry

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the ONNX protobuf messages a draft reads (onnx.proto).
const (
	modelGraph  = 7 // ModelProto.graph
	graphNode   = 1 // GraphProto.node
	nodeInput   = 1 // NodeProto.input
	nodeOutput  = 2 // NodeProto.output
	nodeOpType  = 4 // NodeProto.op_type
	maxNodeHops = 16
)

// outputOps returns, for each value a node of the model's main graph
// produces, the operator that produces it, looking through Identity nodes
// (an exporter's renaming) to the operator that computes it. It reads the
// protobuf wire format directly and returns what it could read of a
// malformed model.
func outputOps(onnx []byte) map[string]string {
	type node struct {
		op     string
		inputs []string
	}
	byOutput := map[string]node{}
	graph, ok := field(onnx, modelGraph)
	if !ok {
		return nil
	}
	for b := graph; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			break
		}
		if num == graphNode && typ == protowire.BytesType {
			msg, _ := protowire.ConsumeBytes(b[:n])
			var nd node
			var outs []string
			for m := msg; len(m) > 0; {
				fn, ft, k := protowire.ConsumeTag(m)
				if k < 0 {
					break
				}
				m = m[k:]
				k = protowire.ConsumeFieldValue(fn, ft, m)
				if k < 0 {
					break
				}
				if ft == protowire.BytesType {
					s, _ := protowire.ConsumeBytes(m[:k])
					switch fn {
					case nodeInput:
						nd.inputs = append(nd.inputs, string(s))
					case nodeOutput:
						outs = append(outs, string(s))
					case nodeOpType:
						nd.op = string(s)
					}
				}
				m = m[k:]
			}
			for _, o := range outs {
				byOutput[o] = nd
			}
		}
		b = b[n:]
	}
	ops := make(map[string]string, len(byOutput))
	for name, nd := range byOutput {
		for hop := 0; nd.op == "Identity" && len(nd.inputs) == 1 && hop < maxNodeHops; hop++ {
			next, ok := byOutput[nd.inputs[0]]
			if !ok {
				break
			}
			nd = next
		}
		ops[name] = nd.op
	}
	return ops
}

// field returns the bytes of the first length-delimited field num of msg.
func field(msg []byte, num protowire.Number) ([]byte, bool) {
	for len(msg) > 0 {
		n, typ, k := protowire.ConsumeTag(msg)
		if k < 0 {
			return nil, false
		}
		msg = msg[k:]
		k = protowire.ConsumeFieldValue(n, typ, msg)
		if k < 0 {
			return nil, false
		}
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg[:k])
			return v, true
		}
		msg = msg[k:]
	}
	return nil, false
}
