package dev.cortado.tokenizer;

import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import java.util.ArrayList;
import java.util.List;
import jinjava.javax.el.ELContext;

/** Jinjava bean resolver that adds the Python {@code str} methods chat templates call. */
final class PyStringResolver extends JinjavaBeanELResolver {
    PyStringResolver() {
        super(false);
    }

    /** Jinjava's default resolver chain with this resolver in place of its bean resolver. */
    static jinjava.javax.el.ELResolver composite() {
        jinjava.javax.el.CompositeELResolver c = new jinjava.javax.el.CompositeELResolver();
        c.add(new jinjava.javax.el.ArrayELResolver(false));
        c.add(new com.hubspot.jinjava.el.ext.JinjavaListELResolver(false));
        c.add(new com.hubspot.jinjava.el.TypeConvertingMapELResolver(false));
        c.add(new jinjava.javax.el.ResourceBundleELResolver());
        c.add(new PyStringResolver());
        return c;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base instanceof String s && method instanceof String name) {
            Object[] p = params == null ? new Object[0] : params;
            Object r = call(s, name, p);
            if (r != NONE) {
                context.setPropertyResolved(true);
                return r;
            }
        }
        return super.invoke(context, base, method, paramTypes, params);
    }

    private static final Object NONE = new Object();

    private static String arg(Object[] p, int i) {
        return i < p.length && p[i] != null ? p[i].toString() : null;
    }

    static Object call(String s, String name, Object[] p) {
        return switch (name) {
            case "startswith" -> s.startsWith(arg(p, 0));
            case "endswith" -> s.endsWith(arg(p, 0));
            case "strip" -> strip(s, arg(p, 0), true, true);
            case "lstrip" -> strip(s, arg(p, 0), true, false);
            case "rstrip" -> strip(s, arg(p, 0), false, true);
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT)
                    + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "replace" -> s.replace(arg(p, 0), arg(p, 1));
            case "split" -> split(s, arg(p, 0));
            case "find" -> s.indexOf(arg(p, 0));
            case "count" -> count(s, arg(p, 0));
            case "join" -> p.length == 1 && p[0] instanceof Iterable<?> it ? join(s, it) : NONE;
            default -> NONE;
        };
    }

    private static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && (chars == null ? Character.isWhitespace(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) b++;
        if (right) while (e > b && (chars == null ? Character.isWhitespace(s.charAt(e - 1)) : chars.indexOf(s.charAt(e - 1)) >= 0)) e--;
        return s.substring(b, e);
    }

    private static List<String> split(String s, String sep) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            for (String t : s.trim().split("\\s+")) if (!t.isEmpty()) out.add(t);
            return out;
        }
        int i = 0;
        for (int j = s.indexOf(sep); j >= 0; j = s.indexOf(sep, i)) {
            out.add(s.substring(i, j));
            i = j + sep.length();
        }
        out.add(s.substring(i));
        return out;
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
        return n;
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (char c : s.toCharArray()) {
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String join(String sep, Iterable<?> items) {
        StringBuilder sb = new StringBuilder();
        for (Object o : items) {
            if (!sb.isEmpty()) sb.append(sep);
            sb.append(o);
        }
        return sb.toString();
    }
}
