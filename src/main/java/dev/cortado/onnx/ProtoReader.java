package dev.cortado.onnx;

import dev.cortado.CortadoException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads one protobuf message in wire format from a {@link MemorySegment} (typically a mapped file), zero-copy.
 *
 * <p>Usage: {@code while (r.hasNext()) switch (r.nextField()) { case 1 -> x = r.readVarint(); default -> r.skip(); }}.
 * All offsets are {@code long} (files over 2 GiB work). Every malformed input (truncated varint, length past the end
 * of the enclosing message, unexpected wire type) becomes a {@link CortadoException} that names the source, the
 * message, the field and the absolute offset; no {@link IndexOutOfBoundsException} escapes.
 */
public final class ProtoReader {
    public static final int VARINT = 0;
    public static final int I64 = 1;
    public static final int LEN = 2;
    public static final int I32 = 5;

    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final String source;
    private final String message;
    private final long end;
    private long pos;
    private int field;
    private int wireType = -1;

    /**
     * A reader over the whole segment.
     *
     * @param source  names the input in error messages, e.g. {@code "ONNX file model.onnx"}
     * @param message the top-level message name, e.g. {@code "ModelProto"}
     */
    public ProtoReader(MemorySegment seg, String source, String message) {
        this(seg, source, message, 0, seg.byteSize());
    }

    private ProtoReader(MemorySegment seg, String source, String message, long start, long end) {
        this.seg = seg;
        this.source = source;
        this.message = message;
        this.pos = start;
        this.end = end;
    }

    /** True while unread bytes remain in this message. */
    public boolean hasNext() {
        return pos < end;
    }

    /** Absolute offset of the next unread byte. */
    public long offset() {
        return pos;
    }

    /** Absolute offset one past this message's last byte. */
    public long end() {
        return end;
    }

    /** Names the input in error messages, e.g. {@code "ONNX file model.onnx"}. */
    public String source() {
        return source;
    }

    /** Field number of the field just read by {@link #nextField()}. */
    public int field() {
        return field;
    }

    /** Wire type of the field just read by {@link #nextField()}. */
    public int wireType() {
        return wireType;
    }

    /** Reads the next tag and returns its field number. */
    public int nextField() {
        long at = pos;
        long tag = readRawVarint("tag");
        long number = tag >>> 3;
        int wt = (int) (tag & 7);
        if (number == 0 || number > 0x1FFF_FFFFL) {
            throw errorAt(at, message + " has invalid field number " + number);
        }
        if (wt != VARINT && wt != I64 && wt != LEN && wt != I32) {
            throw errorAt(at, message + " field " + number + " has wire type " + wt
                    + (wt == 3 || wt == 4 ? " (group, not used by this format)" : " (invalid)"));
        }
        field = (int) number;
        wireType = wt;
        return field;
    }

    /** Fails unless the current field has the given wire type. */
    public void expect(int wt) {
        if (wireType != wt) {
            throw error(message + " field " + field + " has wire type " + wireType + " (" + wireName(wireType)
                    + "), expected " + wt + " (" + wireName(wt) + ")");
        }
    }

    public long readVarint() {
        expect(VARINT);
        return readRawVarint("field " + field);
    }

    /** A varint field truncated to 32 bits (protobuf int32/enum semantics). */
    public int readInt32() {
        return (int) readVarint();
    }

    public int readFixed32() {
        expect(I32);
        return rawFixed32();
    }

    public long readFixed64() {
        expect(I64);
        return rawFixed64();
    }

    public float readFloat() {
        return Float.intBitsToFloat(readFixed32());
    }

    public double readDouble() {
        return Double.longBitsToDouble(readFixed64());
    }

    /** A length-delimited field as a zero-copy slice of the underlying segment. */
    public MemorySegment readBytes() {
        long len = readLength();
        MemorySegment s = seg.asSlice(pos, len);
        pos += len;
        return s;
    }

    /** A length-delimited field decoded as UTF-8 (malformed bytes become U+FFFD). */
    public String readString() {
        long at = pos;
        MemorySegment s = readBytes();
        if (s.byteSize() > Integer.MAX_VALUE - 16) {
            throw errorAt(at, message + " field " + field + " string of " + s.byteSize() + " bytes is too long");
        }
        return new String(s.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** An embedded message field as a reader limited to that message's bytes. */
    public ProtoReader readMessage(String name) {
        long len = readLength();
        ProtoReader sub = new ProtoReader(seg, source, name, pos, pos + len);
        pos += len;
        return sub;
    }

    /** Skips the current field's value, whatever its wire type. */
    public void skip() {
        switch (wireType) {
            case VARINT -> readRawVarint("field " + field);
            case I64 -> advance(8);
            case I32 -> advance(4);
            case LEN -> {
                long len = readLength();
                pos += len;
            }
            default -> throw error(message + " cannot skip field " + field + " with wire type " + wireType);
        }
    }

    /** Appends a repeated varint field (packed or not) to {@code out}. */
    public void readVarints(LongList out) {
        if (wireType == LEN) {
            long len = readLength();
            long stop = pos + len;
            while (pos < stop) out.add(readVarintBefore(stop));
        } else {
            out.add(readVarint());
        }
    }

    /** Appends a repeated fixed32 field (packed or not) to {@code out} as raw bits. */
    public void readFixed32s(LongList out) {
        if (wireType == LEN) {
            long len = packedLength(4);
            for (long stop = pos + len; pos < stop; ) out.add(rawFixed32());
        } else {
            out.add(readFixed32());
        }
    }

    /** Appends a repeated fixed64 field (packed or not) to {@code out} as raw bits. */
    public void readFixed64s(LongList out) {
        if (wireType == LEN) {
            long len = packedLength(8);
            for (long stop = pos + len; pos < stop; ) out.add(rawFixed64());
        } else {
            out.add(readFixed64());
        }
    }

    /** An error naming the source and the current offset. */
    public CortadoException error(String what) {
        return errorAt(pos, what);
    }

    public CortadoException errorAt(long offset, String what) {
        return new CortadoException("corrupt " + source + ": " + what + " at offset " + offset);
    }

    private long packedLength(int width) {
        long at = pos;
        long len = readLength();
        if (len % width != 0) {
            throw errorAt(at, message + " packed field " + field + " length " + len + " is not a multiple of " + width);
        }
        return len;
    }

    private long readLength() {
        expect(LEN);
        long at = pos;
        long len = readRawVarint("field " + field + " length");
        if (len < 0 || len > end - pos) {
            throw errorAt(at, message + " field " + field + " length " + Long.toUnsignedString(len) + " runs past end of "
                    + (end == seg.byteSize() ? "file" : message + " (which ends at offset " + end + ")"));
        }
        return len;
    }

    private int rawFixed32() {
        need(4);
        int v = seg.get(I32_LE, pos);
        pos += 4;
        return v;
    }

    private long rawFixed64() {
        need(8);
        long v = seg.get(I64_LE, pos);
        pos += 8;
        return v;
    }

    private void advance(long n) {
        need(n);
        pos += n;
    }

    private void need(long n) {
        if (n > end - pos) {
            throw error(message + " field " + field + " needs " + n + " bytes but " + (end - pos) + " remain");
        }
    }

    private long readRawVarint(String what) {
        return readVarintBefore(end, what);
    }

    private long readVarintBefore(long stop) {
        return readVarintBefore(stop, "packed field " + field);
    }

    private long readVarintBefore(long stop, String what) {
        long at = pos;
        long result = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= stop) throw errorAt(at, message + " " + what + ": varint runs past end");
            byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) return result;
        }
        throw errorAt(at, message + " " + what + ": varint longer than 10 bytes");
    }

    /** Decodes one varint from {@code seg} at {@code offset} (for tests and callers outside a message). */
    public static long decodeVarint(MemorySegment seg, long offset) {
        ProtoReader r = new ProtoReader(seg, "input", "varint", offset, seg.byteSize());
        return r.readRawVarint("value");
    }

    private static String wireName(int wt) {
        return switch (wt) {
            case VARINT -> "varint";
            case I64 -> "fixed64";
            case LEN -> "length-delimited";
            case I32 -> "fixed32";
            default -> "unknown";
        };
    }
}
