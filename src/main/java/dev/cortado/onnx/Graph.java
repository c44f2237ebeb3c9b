package dev.cortado.onnx;

import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph (GraphProto): nodes in file order (ONNX requires topological order), initializers by name in file order
 * (zero-copy tensors over the mapped model or external data file), inputs, outputs and value_info.
 * Tensors stay valid until the owning {@link OnnxModel} is closed. {@code sparse_initializer} entries are not read.
 */
public final class Graph {
    private final String name;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    private final List<ValueInfo> inputs;
    private final List<ValueInfo> outputs;
    private final List<ValueInfo> valueInfo;
    private Map<String, Node> producers;
    private Map<String, List<Node>> consumers;

    Graph(String name, List<Node> nodes, Map<String, Tensor> initializers, List<ValueInfo> inputs,
          List<ValueInfo> outputs, List<ValueInfo> valueInfo) {
        this.name = name;
        this.nodes = List.copyOf(nodes);
        this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.valueInfo = List.copyOf(valueInfo);
    }

    public String name() {
        return name;
    }

    /**
     * {@code branch}, a subgraph of one of this graph's nodes (an If branch), as a graph of its own: its nodes and
     * outputs, with this graph's initializers (the outer scope its nodes read, e.g. Optimum's merged decoders keep
     * every weight at the top level) besides its own, and this graph's inputs.
     */
    public Graph withOuterScope(Graph branch) {
        Map<String, Tensor> inits = new LinkedHashMap<>(initializers);
        inits.putAll(branch.initializers());
        return new Graph(branch.name(), branch.nodes(), inits, inputs, branch.outputs(), branch.valueInfo());
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, Tensor> initializers() {
        return initializers;
    }

    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<ValueInfo> outputs() {
        return outputs;
    }

    /** Intermediate value types recorded by the exporter or shape inference (often empty). */
    public List<ValueInfo> valueInfo() {
        return valueInfo;
    }

    public List<String> inputNames() {
        return inputs.stream().map(ValueInfo::name).toList();
    }

    /**
     * The inputs a caller feeds: graph inputs without an initializer of the same name. Before IR version 4 every
     * initializer also had to be listed as a graph input; from IR 4 on such an input is an overridable default. ONNX
     * Runtime lists neither among a session's inputs, and neither do these.
     */
    public List<ValueInfo> runtimeInputs() {
        return inputs.stream().filter(v -> !initializers.containsKey(v.name())).toList();
    }

    public List<String> runtimeInputNames() {
        return runtimeInputs().stream().map(ValueInfo::name).toList();
    }

    public List<String> outputNames() {
        return outputs.stream().map(ValueInfo::name).toList();
    }

    /** The node whose outputs include {@code valueName}, or null (graph inputs and initializers have none). */
    public Node producer(String valueName) {
        return indexes().producers.get(valueName);
    }

    /** The nodes of this graph (not of subgraphs) that take {@code valueName} as an input, in file order. */
    public List<Node> consumers(String valueName) {
        return indexes().consumers.getOrDefault(valueName, List.of());
    }

    private synchronized Graph indexes() {
        if (producers == null) {
            Map<String, Node> prod = new HashMap<>();
            Map<String, List<Node>> cons = new HashMap<>();
            for (Node n : nodes) {
                for (String out : n.outputs()) if (!out.isEmpty()) prod.putIfAbsent(out, n);
                for (String in : n.inputs()) {
                    if (in.isEmpty()) continue;
                    List<Node> list = cons.computeIfAbsent(in, k -> new ArrayList<>());
                    if (list.isEmpty() || list.getLast() != n) list.add(n);
                }
            }
            cons.replaceAll((k, v) -> List.copyOf(v));
            consumers = cons;
            producers = prod;
        }
        return this;
    }

    @Override
    public String toString() {
        return "Graph '" + name + "' (" + nodes.size() + " nodes, " + initializers.size() + " initializers)";
    }
}
