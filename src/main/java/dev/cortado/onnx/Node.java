package dev.cortado.onnx;

import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph node (NodeProto). Omitted optional inputs appear as empty strings, as in the file.
 * The typed attribute helpers throw a CortadoException naming the node when the attribute has another type.
 */
public final class Node {
    private final String name;
    private final String opType;
    private final String domain;
    private final List<String> inputs;
    private final List<String> outputs;
    private final Map<String, Attribute> attributes;

    Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
         Map<String, Attribute> attributes) {
        this.name = name;
        this.opType = opType;
        this.domain = domain;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    public String name() {
        return name;
    }

    public String opType() {
        return opType;
    }

    /** The operator domain; "" (the default) means ai.onnx. */
    public String domain() {
        return domain;
    }

    public List<String> inputs() {
        return inputs;
    }

    public List<String> outputs() {
        return outputs;
    }

    /** Input i, or "" when the node has fewer inputs. */
    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    /** Output i, or "" when the node has fewer outputs. */
    public String output(int i) {
        return i < outputs.size() ? outputs.get(i) : "";
    }

    /** Attributes by name, in file order. */
    public Map<String, Attribute> attributes() {
        return attributes;
    }

    public long attrInt(String attr, long def) {
        Attribute a = typed(attr, Attribute.Type.INT);
        return a == null ? def : a.i();
    }

    public float attrFloat(String attr, float def) {
        Attribute a = typed(attr, Attribute.Type.FLOAT);
        return a == null ? def : a.f();
    }

    /** The INTS attribute, or null when absent. */
    public long[] attrInts(String attr) {
        Attribute a = typed(attr, Attribute.Type.INTS);
        return a == null ? null : a.ints();
    }

    /** The FLOATS attribute, or null when absent. */
    public float[] attrFloats(String attr) {
        Attribute a = typed(attr, Attribute.Type.FLOATS);
        return a == null ? null : a.floats();
    }

    public String attrString(String attr, String def) {
        Attribute a = typed(attr, Attribute.Type.STRING);
        return a == null ? def : a.s();
    }

    /** The TENSOR attribute (e.g. Constant's {@code value}), or null when absent. */
    public Tensor attrTensor(String attr) {
        Attribute a = typed(attr, Attribute.Type.TENSOR);
        return a == null ? null : a.t();
    }

    /** The GRAPH attribute (e.g. If's {@code then_branch}), or null when absent. */
    public Graph attrGraph(String attr) {
        Attribute a = typed(attr, Attribute.Type.GRAPH);
        return a == null ? null : a.g();
    }

    private Attribute typed(String attr, Attribute.Type want) {
        Attribute a = attributes.get(attr);
        if (a != null && a.type() != want) {
            throw new CortadoException("node '" + name + "' (" + opType + ") attribute '" + attr + "' is "
                    + a.type() + ", expected " + want);
        }
        return a;
    }

    @Override
    public String toString() {
        return opType + " '" + name + "' " + inputs + " -> " + outputs;
    }
}
