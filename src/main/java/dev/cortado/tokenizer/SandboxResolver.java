package dev.cortado.tokenizer;

import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.util.ForLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELContext;

/**
 * The chat-template sandbox's attribute and method resolver: no Java reflection on values. Strings have the Python
 * {@code str} methods of {@link PyMethods}; dicts {@code items keys values get}; lists {@code append extend pop
 * index count} (the caller's messages and tools are frozen copies, so only template-made lists change); Jinjava's
 * own {@code loop} object its attributes. Any other method is an error naming it; any other attribute is
 * undefined, as in Jinja.
 */
final class SandboxResolver extends JinjavaBeanELResolver {
    static final List<String> LIST_METHODS = List.of("append", "extend", "pop", "index", "count");

    SandboxResolver() {
        super(false);
    }

    /** Jinjava's default resolver chain with this resolver in place of its bean resolver. */
    static jinjava.javax.el.ELResolver composite() {
        jinjava.javax.el.CompositeELResolver c = new jinjava.javax.el.CompositeELResolver();
        c.add(new jinjava.javax.el.ArrayELResolver(true));
        c.add(new com.hubspot.jinjava.el.ext.JinjavaListELResolver(false));
        c.add(new com.hubspot.jinjava.el.TypeConvertingMapELResolver(false));
        c.add(new SandboxResolver());
        return c;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base == null) return super.getValue(context, base, property);
        context.setPropertyResolved(true);
        if (base instanceof ForLoop) return super.getValue(context, base, property);
        return null; // strings, numbers, lists, Java objects: no attributes (undefined)
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        if (base == null || base instanceof Map<?, ?> || base instanceof List<?>) {
            super.setValue(context, base, property, value);
            return;
        }
        throw new ChatTemplate.TemplateException("cannot set attribute '" + property + "' on a "
                + PyMethods.typeName(base));
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base == null || !(method instanceof String name)) return super.invoke(context, base, method, paramTypes, params);
        Object[] p = params == null ? new Object[0] : params;
        if (base instanceof com.hubspot.jinjava.objects.SafeString safe) base = safe.toString(); // Jinja's Markup is a str
        Object r;
        if (base instanceof String s) {
            r = PyMethods.str(s, name, p);
        } else if (base instanceof Map<?, ?> m) {
            r = PyMethods.dict(m, name, p);
        } else if (base instanceof List<?> && LIST_METHODS.contains(name)) {
            try {
                return super.invoke(context, base, method, paramTypes, params);
            } catch (RuntimeException e) {
                Throwable c = e;
                while (c != null && !(c instanceof UnsupportedOperationException)) c = c.getCause();
                if (c == null) throw e;
                throw new ChatTemplate.TemplateException("list." + name + "(): the messages and tools passed to the"
                        + " template are read-only; build a new list with {% set x = [] %} and append to that");
            }
        } else if ((base instanceof com.hubspot.jinjava.lib.filter.Filter && name.equals("filter"))
                || (base instanceof com.hubspot.jinjava.lib.exptest.ExpTest && name.startsWith("evaluate"))
                || base instanceof com.hubspot.jinjava.el.ext.AbstractCallableMethod) {
            return super.invoke(context, base, method, paramTypes, params); // Jinjava's own filters, tests, macros
        } else if (base instanceof ForLoop && name.equals("cycle")) {
            return super.invoke(context, base, method, paramTypes, params);
        } else {
            r = PyMethods.NONE;
        }
        if (r == PyMethods.NONE)
            throw new ChatTemplate.TemplateException("a " + PyMethods.typeName(base) + " has no method '" + name
                    + "' in chat templates (allowed: " + PyMethods.allowed(base) + ")");
        context.setPropertyResolved(true);
        return r;
    }

    static List<Object> list(Iterable<?> items) {
        List<Object> out = new ArrayList<>();
        for (Object o : items) out.add(o);
        return out;
    }
}
