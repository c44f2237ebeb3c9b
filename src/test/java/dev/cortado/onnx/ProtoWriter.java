package dev.cortado.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protobuf wire-format writer for building test fixtures, written from the protobuf encoding spec
 * independently of {@link ProtoReader}.
 */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static byte[] varintBytes(long v) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while ((v & ~0x7FL) != 0) {
            b.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
        return b.toByteArray();
    }

    ProtoWriter tag(int field, int wireType) {
        raw(varintBytes(((long) field << 3) | wireType));
        return this;
    }

    ProtoWriter raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    ProtoWriter rawInts(int... bytes) {
        for (int b : bytes) out.write(b);
        return this;
    }

    ProtoWriter varint(int field, long v) {
        return tag(field, 0).raw(varintBytes(v));
    }

    ProtoWriter fixed32(int field, int v) {
        tag(field, 5);
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
        return this;
    }

    ProtoWriter float32(int field, float v) {
        return fixed32(field, Float.floatToRawIntBits(v));
    }

    ProtoWriter fixed64(int field, long v) {
        tag(field, 1);
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
        return this;
    }

    ProtoWriter bytes(int field, byte[] b) {
        tag(field, 2).raw(varintBytes(b.length));
        return raw(b);
    }

    ProtoWriter string(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter m) {
        return bytes(field, m.toByteArray());
    }

    ProtoWriter packedVarints(int field, long... values) {
        ProtoWriter p = new ProtoWriter();
        for (long v : values) p.raw(varintBytes(v));
        return bytes(field, p.toByteArray());
    }

    ProtoWriter packedFloats(int field, float... values) {
        ProtoWriter p = new ProtoWriter();
        for (float v : values) {
            int bits = Float.floatToRawIntBits(v);
            for (int i = 0; i < 4; i++) p.out.write(bits >>> (8 * i));
        }
        return bytes(field, p.toByteArray());
    }

    ProtoWriter packedDoubles(int field, double... values) {
        ProtoWriter p = new ProtoWriter();
        for (double v : values) {
            long bits = Double.doubleToRawLongBits(v);
            for (int i = 0; i < 8; i++) p.out.write((int) (bits >>> (8 * i)));
        }
        return bytes(field, p.toByteArray());
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
