package dev.cortado.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class ProtoReaderTest {

    private static MemorySegment seg(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) bytes[i];
        return MemorySegment.ofArray(b);
    }

    private static ProtoReader reader(byte[] b) {
        return new ProtoReader(MemorySegment.ofArray(b), "test input", "Msg");
    }

    @Test
    void decodesVarintsFromTheProtobufSpec() {
        // encodings from the protobuf encoding guide and by hand from its base-128 rule
        assertEquals(1, ProtoReader.decodeVarint(seg(0x01), 0));
        assertEquals(150, ProtoReader.decodeVarint(seg(0x96, 0x01), 0));
        assertEquals(300, ProtoReader.decodeVarint(seg(0xac, 0x02), 0));
        assertEquals(Integer.MAX_VALUE, ProtoReader.decodeVarint(seg(0xff, 0xff, 0xff, 0xff, 0x07), 0));
        assertEquals(1L << 31, ProtoReader.decodeVarint(seg(0x80, 0x80, 0x80, 0x80, 0x08), 0));
        assertEquals((1L << 31) + 5, ProtoReader.decodeVarint(seg(0x85, 0x80, 0x80, 0x80, 0x08), 0));
        assertEquals(1L << 32, ProtoReader.decodeVarint(seg(0x80, 0x80, 0x80, 0x80, 0x10), 0));
        assertEquals((1L << 32) + 1, ProtoReader.decodeVarint(seg(0x81, 0x80, 0x80, 0x80, 0x10), 0));
        assertEquals(5_000_000_000L, ProtoReader.decodeVarint(seg(0x80, 0xe4, 0x97, 0xd0, 0x12), 0));
        assertEquals(-1L, ProtoReader.decodeVarint(seg(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0));
        assertEquals(Long.MAX_VALUE, ProtoReader.decodeVarint(seg(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 0));
        assertEquals(Long.MIN_VALUE, ProtoReader.decodeVarint(seg(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0));
        // at a non-zero offset
        assertEquals(1L << 32, ProtoReader.decodeVarint(seg(0xff, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10), 2));
    }

    @Test
    void varintRoundTripsAroundTwoToThe31And32() {
        long[] values = {(1L << 31) - 1, 1L << 31, (1L << 31) + 1, (1L << 32) - 1, 1L << 32, (1L << 32) + 1,
            3L << 32, 1L << 40, 1L << 62, -2L, -(1L << 31), -(1L << 32)};
        for (long v : values) {
            assertEquals(v, ProtoReader.decodeVarint(MemorySegment.ofArray(ProtoWriter.varintBytes(v)), 0), "value " + v);
        }
    }

    @Test
    void readsLongFieldsAbove32Bits() {
        ProtoWriter w = new ProtoWriter().varint(1, 5_000_000_000L).varint(2, 1L << 31).fixed64(3, 1L << 40);
        ProtoReader r = reader(w.toByteArray());
        assertEquals(1, r.nextField());
        assertEquals(5_000_000_000L, r.readVarint());
        assertEquals(2, r.nextField());
        assertEquals(1L << 31, r.readVarint());
        assertEquals(3, r.nextField());
        assertEquals(1L << 40, r.readFixed64());
        assertFalse(r.hasNext());
    }

    @Test
    void rejectsTruncatedAndOverlongVarints() {
        var e = assertThrows(CortadoException.class, () -> ProtoReader.decodeVarint(seg(0x80, 0x80), 0));
        assertTrue(e.getMessage().contains("varint runs past end"), e.getMessage());
        e = assertThrows(CortadoException.class, () -> ProtoReader.decodeVarint(
                seg(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0));
        assertTrue(e.getMessage().contains("longer than 10 bytes"), e.getMessage());
    }

    @Test
    void rejectsLengthsBeyondTheEndEvenAbove2GiB() {
        for (long len : new long[] {10, 1L << 31, (1L << 32) + 7, Long.MAX_VALUE, -1L}) {
            byte[] b = new ProtoWriter().tag(7, 2).raw(ProtoWriter.varintBytes(len)).raw(new byte[4]).toByteArray();
            ProtoReader r = reader(b);
            r.nextField();
            var e = assertThrows(CortadoException.class, r::readBytes);
            assertTrue(e.getMessage().startsWith("corrupt test input: Msg field 7 length " + Long.toUnsignedString(len)
                    + " runs past end of file at offset 1"), e.getMessage());
        }
    }

    @Test
    void nestedMessageLengthIsBoundedByItsParent() {
        // inner declares 20 bytes but the outer message only holds 3 after it
        ProtoWriter inner = new ProtoWriter().tag(1, 2).raw(ProtoWriter.varintBytes(20)).rawInts(1, 2, 3);
        byte[] b = new ProtoWriter().message(4, inner).raw(new byte[30]).toByteArray();
        ProtoReader r = reader(b);
        r.nextField();
        ProtoReader sub = r.readMessage("Inner");
        sub.nextField();
        var e = assertThrows(CortadoException.class, sub::readBytes);
        assertTrue(e.getMessage().contains("Inner field 1 length 20 runs past end of Inner (which ends at offset 7)"),
                e.getMessage());
    }

    @Test
    void rejectsWrongWireTypes() {
        ProtoReader r = reader(new ProtoWriter().string(7, "x").toByteArray());
        assertEquals(7, r.nextField());
        var e = assertThrows(CortadoException.class, r::readVarint);
        assertTrue(e.getMessage().contains("field 7 has wire type 2 (length-delimited), expected 0 (varint)"), e.getMessage());

        ProtoReader g = reader(new ProtoWriter().tag(3, 3).toByteArray());
        e = assertThrows(CortadoException.class, g::nextField);
        assertTrue(e.getMessage().contains("field 3 has wire type 3 (group"), e.getMessage());

        ProtoReader bad = reader(new ProtoWriter().tag(3, 7).toByteArray());
        assertThrows(CortadoException.class, bad::nextField);

        ProtoReader zero = reader(new byte[] {0x00});
        e = assertThrows(CortadoException.class, zero::nextField);
        assertTrue(e.getMessage().contains("invalid field number 0"), e.getMessage());
    }

    @Test
    void rejectsTruncatedFixedFields() {
        ProtoReader r = reader(new ProtoWriter().tag(2, 1).rawInts(1, 2, 3).toByteArray());
        r.nextField();
        assertThrows(CortadoException.class, r::readFixed64);
        ProtoReader s = reader(new ProtoWriter().tag(2, 5).rawInts(1).toByteArray());
        s.nextField();
        assertThrows(CortadoException.class, s::skip);
    }

    @Test
    void readsPackedAndUnpackedRepeatedFields() {
        byte[] b = new ProtoWriter().packedVarints(1, 1, -1, 5_000_000_000L).varint(1, 42)
                .packedFloats(2, 1.5f, -2f).float32(2, 3.25f)
                .packedDoubles(3, 0.1).fixed64(3, Double.doubleToRawLongBits(-7.5)).toByteArray();
        ProtoReader r = reader(b);
        LongList ints = new LongList(), floats = new LongList(), doubles = new LongList();
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> r.readVarints(ints);
                case 2 -> r.readFixed32s(floats);
                case 3 -> r.readFixed64s(doubles);
                default -> r.skip();
            }
        }
        assertArrayEquals(new long[] {1, -1, 5_000_000_000L, 42}, ints.toArray());
        assertEquals(1.5f, Float.intBitsToFloat((int) floats.get(0)));
        assertEquals(-2f, Float.intBitsToFloat((int) floats.get(1)));
        assertEquals(3.25f, Float.intBitsToFloat((int) floats.get(2)));
        assertEquals(0.1, Double.longBitsToDouble(doubles.get(0)));
        assertEquals(-7.5, Double.longBitsToDouble(doubles.get(1)));
    }

    @Test
    void rejectsPackedFixedFieldsWithRaggedLength() {
        ProtoReader r = reader(new ProtoWriter().bytes(2, new byte[] {1, 2, 3, 4, 5}).toByteArray());
        r.nextField();
        var e = assertThrows(CortadoException.class, () -> r.readFixed32s(new LongList()));
        assertTrue(e.getMessage().contains("not a multiple of 4"), e.getMessage());
    }

    @Test
    void skipsUnknownFieldsOfEveryWireType() {
        byte[] b = new ProtoWriter().varint(1, 1L << 40).fixed64(2, 9).string(3, "abc").fixed32(4, 7)
                .varint(5, 99).toByteArray();
        ProtoReader r = reader(b);
        for (int i = 0; i < 4; i++) {
            r.nextField();
            r.skip();
        }
        assertEquals(5, r.nextField());
        assertEquals(99, r.readVarint());
        assertFalse(r.hasNext());
    }
}
