package dev.cortado.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The chat-template sandbox around Jinjava: only Jinja's own filters, tests, functions and tags that templates use
 * (everything else Jinjava ships is disabled), unknown filters and tests are errors instead of empty output,
 * {@code range} errors past {@link #MAX_RANGE} instead of Jinjava's silent cap, a render deadline checked at every
 * node, and the caller's values passed as frozen deep copies.
 */
final class TemplateSandbox {
    /** The longest {@code range()}: as transformers' Jinja sandbox ({@code MAX_RANGE}, "Range too big"). */
    static final int MAX_RANGE = 100_000;
    /** The longest list or dict a template may build. */
    static final int MAX_COLLECTION = 1 << 20;

    static final Set<String> FILTERS = Set.of("abs", "batch", "capitalize", "count", "d", "default", "dictsort", "e",
            "escape", "first", "float", "forceescape", "format", "groupby", "indent", "int", "join", "last", "length",
            "list", "lower", "map", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
            "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
            "unique", "upper", "urlencode", "wordcount", "wordwrap", "xmlattr");
    static final Set<String> TESTS = Set.of("!=", "<", "<=", "==", ">", ">=", "boolean", "defined", "divisibleby",
            "eq", "equalto", "even", "false", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le",
            "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string",
            "true", "undefined", "upper");
    static final Set<String> FUNCTIONS = Set.of("namespace", "range", "raise_exception", "strftime_now");
    static final Set<String> TAGS = Set.of("autoescape", "endautoescape", "break", "continue", "call", "endcall",
            "do", "enddo", "for", "endfor", "if", "elif", "else", "endif", "macro", "endmacro", "raw", "endraw", "set",
            "endset");

    private static final ThreadLocal<long[]> DEADLINE = new ThreadLocal<>();

    private TemplateSandbox() {}

    /** Adds the sandbox to a config builder for {@code jinjava}'s libraries. */
    static JinjavaConfig.Builder configure(JinjavaConfig.Builder b, Jinjava defaults) {
        Context g = defaults.getGlobalContext();
        Map<Context.Library, Set<String>> disabled = new EnumMap<>(Context.Library.class);
        disabled.put(Context.Library.FILTER, without(g.getAllFilters().stream().map(Filter::getName).toList(), FILTERS));
        disabled.put(Context.Library.EXP_TEST, without(g.getAllExpTests().stream().map(ExpTest::getName).toList(), TESTS));
        disabled.put(Context.Library.TAG, without(g.getAllTags().stream().map(Tag::getName).toList(), TAGS));
        Set<String> fns = new HashSet<>();
        for (ELFunctionDefinition f : g.getAllFunctions()) {
            if (!FUNCTIONS.contains(f.getLocalName()) && f.getNamespace().isEmpty()) fns.add(f.getLocalName());
        }
        disabled.put(Context.Library.FUNCTION, fns);
        return b.withDisabled(disabled).withInterperterFactory(new InterpreterFactory() {
            @Override
            public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
                return new JinjavaInterpreter(orig);
            }

            @Override
            public JinjavaInterpreter newInstance(Jinjava app, Context context, JinjavaConfig cfg) {
                return new JinjavaInterpreter(app, new StrictContext(context), cfg);
            }
        }).withNodePreProcessor((node, interpreter) -> checkDeadline());
    }

    /**
     * Wraps the Jinjava filters that allocate by an argument ({@code format} widths, {@code indent}, {@code batch})
     * with a size check, and {@code replace} with Python's {@code str.replace} (Jinjava ignores an empty old string).
     */
    static void guardFilters(Context g) {
        guard(g, "format", (var, args) -> {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("%[-#0 +]*(\\d*)(?:\\.(\\d*))?")
                    .matcher(String.valueOf(var));
            while (m.find()) {
                for (int k = 1; k <= 2; k++) {
                    String d = m.group(k);
                    if (d != null && !d.isEmpty() && (d.length() > 6 || Integer.parseInt(d) > MAX_WIDTH))
                        throw new ChatTemplate.TemplateException("format: field width " + d + " is over " + MAX_WIDTH);
                }
            }
        });
        guard(g, "indent", (var, args) -> checkNumbers("indent", args, MAX_WIDTH));
        guard(g, "batch", (var, args) -> checkNumbers("batch", args, MAX_COLLECTION));
        guard(g, "wordwrap", (var, args) -> checkNumbers("wordwrap", args, Integer.MAX_VALUE));
        Filter replace = g.getFilter("replace");
        g.registerFilter(new Filter() {
            @Override
            public String getName() {
                return "replace";
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter in, String... args) {
                return filter(var, in, (Object[]) args, Map.of());
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter in, Object[] args, Map<String, Object> kw) {
                if (!(var instanceof String) || args.length < 2) return replace.filter(var, in, args, kw);
                Object count = args.length > 2 ? args[2] : kw.get("count");
                Object[] p = count == null ? new Object[] {args[0], args[1]} : new Object[] {args[0], args[1], count};
                return PyMethods.str((String) var, "replace", p);
            }
        });
    }

    static final int MAX_WIDTH = 10_000;

    private interface Check {
        void check(Object var, Object[] args);
    }

    private static void checkNumbers(String filter, Object[] args, long max) {
        for (Object a : args) {
            double v = a instanceof Number n ? n.doubleValue() : a instanceof String str && str.matches("-?\\d{1,19}")
                    ? Double.parseDouble(str) : 0;
            if (Math.abs(v) > max)
                throw new ChatTemplate.TemplateException(filter + ": argument " + a + " is over the limit of " + max);
        }
    }

    private static void guard(Context g, String name, Check check) {
        Filter inner = g.getFilter(name);
        g.registerFilter(new Filter() {
            @Override
            public String getName() {
                return name;
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter in, String... args) {
                check.check(var, args);
                return inner.filter(var, in, args);
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter in, Object[] args, Map<String, Object> kw) {
                check.check(var, args);
                check.check(var, kw.values().toArray());
                return inner.filter(var, in, args, kw);
            }
        });
    }

    private static Set<String> without(List<String> all, Set<String> allowed) {
        Set<String> s = new HashSet<>(all);
        s.removeAll(allowed);
        return s;
    }

    /** Unknown filters and tests are errors (Jinjava renders them empty). */
    private static final class StrictContext extends Context {
        StrictContext(Context parent) {
            super(parent);
        }

        @Override
        public Filter getFilter(String name) {
            Filter f = super.getFilter(name);
            if (f == null) throw new ChatTemplate.TemplateException("unknown filter '" + name + "'");
            return f;
        }

        @Override
        public ExpTest getExpTest(String name) {
            ExpTest t = super.getExpTest(name);
            if (t == null) throw new ChatTemplate.TemplateException("unknown test '" + name + "'");
            return t;
        }
    }

    static void startDeadline(long millis) {
        DEADLINE.set(new long[] {System.nanoTime() + millis * 1_000_000L, millis});
    }

    static void clearDeadline() {
        DEADLINE.remove();
    }

    static void checkDeadline() {
        long[] d = DEADLINE.get();
        if (d != null && System.nanoTime() - d[0] > 0)
            throw new ChatTemplate.TemplateException("rendering took longer than " + d[1] + " ms");
    }

    /** Python {@code range(stop)}, {@code range(start, stop[, step])}; an error past {@link #MAX_RANGE} items. */
    public static List<Long> range(Object a, Object... rest) {
        long start = 0, stop, step = 1;
        if (rest == null || rest.length == 0) {
            stop = integer(a);
        } else {
            start = integer(a);
            stop = integer(rest[0]);
            if (rest.length > 1) step = integer(rest[1]);
            if (rest.length > 2) throw new ChatTemplate.TemplateException("range() takes at most 3 arguments");
        }
        if (step == 0) throw new ChatTemplate.TemplateException("range() step must not be zero");
        long n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                : (start > stop ? (start - stop - step - 1) / -step : 0);
        if (n > MAX_RANGE || n < 0)
            throw new ChatTemplate.TemplateException("range() of " + n + " items is over the chat template limit of "
                    + MAX_RANGE);
        List<Long> out = new ArrayList<>((int) n);
        for (long k = 0, v = start; k < n; k++, v += step) out.add(v);
        return out;
    }

    private static long integer(Object o) {
        if (o instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.longValue();
        if (o instanceof String s && s.strip().matches("-?\\d{1,18}")) return Long.parseLong(s.strip());
        throw new ChatTemplate.TemplateException("range() needs integers, got " + Json.quote(String.valueOf(o)));
    }

    /**
     * A frozen deep copy of a template variable: maps and lists become unmodifiable copies (so a template cannot
     * change the caller's messages), strings, numbers, booleans and null stay, arrays become lists, anything else
     * its string form.
     */
    static Object freeze(Object o) {
        return freeze(o, 0);
    }

    private static Object freeze(Object o, int depth) {
        if (depth > 200) throw new ChatTemplate.TemplateException("template variables are nested over 200 deep");
        if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean) return o;
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> c = new LinkedHashMap<>();
            for (var e : m.entrySet()) c.put(String.valueOf(e.getKey()), freeze(e.getValue(), depth + 1));
            return Collections.unmodifiableMap(c);
        }
        if (o instanceof Iterable<?> it) {
            List<Object> c = new ArrayList<>();
            for (Object x : it) c.add(freeze(x, depth + 1));
            return Collections.unmodifiableList(c);
        }
        if (o instanceof Object[] arr) return freeze(java.util.Arrays.asList(arr), depth);
        if (o instanceof Character c) return c.toString();
        return String.valueOf(o);
    }
}
