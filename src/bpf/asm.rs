//! A small BPF assembler: the instructions the iterator programs use,
//! jumps to labels (resolved when the program is finished, never counted
//! by hand), and loads of kernel struct members checked against the
//! member's size in this kernel's BTF, so that a member that changed
//! width fails the build of the one program that reads it rather than
//! being misread.

use super::btf::Field;

pub(super) type Reg = u8;
pub(super) const R0: Reg = 0;
pub(super) const R1: Reg = 1;
pub(super) const R2: Reg = 2;
pub(super) const R3: Reg = 3;
pub(super) const R4: Reg = 4;
pub(super) const R5: Reg = 5;
pub(super) const R6: Reg = 6;
pub(super) const R7: Reg = 7;
pub(super) const R8: Reg = 8;
pub(super) const R9: Reg = 9;
/// The frame pointer: the stack is below it.
pub(super) const FP: Reg = 10;

/// How many bytes a load or store moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Width {
    H,
    W,
    DW,
}

impl Width {
    pub(super) fn bytes(self) -> u32 {
        match self {
            Width::H => 2,
            Width::W => 4,
            Width::DW => 8,
        }
    }

    fn code(self) -> u8 {
        match self {
            Width::W => 0x00,
            Width::H => 0x08,
            Width::DW => 0x18,
        }
    }
}

/// Jump conditions (against an immediate); `Gt` and `Lt` are unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum If {
    Eq,
    Ne,
    Gt,
    Lt,
}

impl If {
    fn code(self) -> u8 {
        match self {
            If::Eq => 0x10,
            If::Gt => 0x20,
            If::Ne => 0x50,
            If::Lt => 0xa0,
        }
    }
}

// Instruction classes and operations (linux/bpf_common.h, linux/bpf.h).
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const ALU64: u8 = 0x07;
const MEM: u8 = 0x60;
const K: u8 = 0x00;
const X: u8 = 0x08;
const ADD: u8 = 0x00;
const OR: u8 = 0x40;
const AND: u8 = 0x50;
const LSH: u8 = 0x60;
const RSH: u8 = 0x70;
const MOV: u8 = 0xb0;
const JA: u8 = 0x00;
const CALL: u8 = 0x80;
const EXIT: u8 = 0x90;

/// A place in the program that jumps may go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Label(usize);

/// A program being written.
#[derive(Debug, Default)]
pub(super) struct Asm {
    code: Vec<[u8; 8]>,
    /// Where each label was put, once it is.
    labels: Vec<Option<usize>>,
    /// Jumps to labels: the jump's index, the label.
    jumps: Vec<(usize, Label)>,
    /// The first reason the program cannot be built.
    error: Option<String>,
}

impl Asm {
    pub(super) fn new() -> Asm {
        Asm::default()
    }

    fn emit(&mut self, code: u8, dst: Reg, src: Reg, off: i16, imm: i32) {
        let mut i = [0u8; 8];
        i[0] = code;
        i[1] = (dst & 0xf) | (src << 4);
        i[2..4].copy_from_slice(&off.to_le_bytes());
        i[4..8].copy_from_slice(&imm.to_le_bytes());
        self.code.push(i);
    }

    /// Records why the program cannot be built (the first reason stays).
    pub(super) fn fail(&mut self, why: String) {
        self.error.get_or_insert(why);
    }

    /// A new label, to be put with [`Asm::put`].
    pub(super) fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Puts `label` at the next instruction.
    pub(super) fn put(&mut self, label: Label) {
        if self.labels[label.0].replace(self.code.len()).is_some() {
            self.fail(format!("label {} put twice", label.0));
        }
    }

    /// `dst = *(width *)(src + off)`.
    pub(super) fn load(&mut self, width: Width, dst: Reg, src: Reg, off: i16) {
        self.emit(LDX | MEM | width.code(), dst, src, off, 0);
    }

    /// `dst = src->field`, the field's size in this kernel being `width`.
    pub(super) fn load_field(&mut self, width: Width, dst: Reg, src: Reg, field: Field) {
        let off = self.offset_of(field, width.bytes());
        self.load(width, dst, src, off);
    }

    /// `field`'s offset as a load's, checked to be `size` bytes wide and
    /// within a load's reach.
    pub(super) fn offset_of(&mut self, field: Field, size: u32) -> i16 {
        if field.size != size {
            let read = size * 8;
            self.fail(format!(
                "{field}: {} bytes in this kernel, the program reads u{read}",
                field.size
            ));
        }
        i16::try_from(field.offset).unwrap_or_else(|_| {
            self.fail(format!("{field}: offset {} out of reach", field.offset));
            0
        })
    }

    /// `*(width *)(dst + off) = src`.
    pub(super) fn store(&mut self, width: Width, dst: Reg, off: i16, src: Reg) {
        self.emit(STX | MEM | width.code(), dst, src, off, 0);
    }

    /// `*(width *)(dst + off) = imm`.
    pub(super) fn store_imm(&mut self, width: Width, dst: Reg, off: i16, imm: i32) {
        self.emit(ST | MEM | width.code(), dst, 0, off, imm);
    }

    pub(super) fn mov(&mut self, dst: Reg, src: Reg) {
        self.emit(ALU64 | MOV | X, dst, src, 0, 0);
    }

    pub(super) fn mov_imm(&mut self, dst: Reg, imm: i32) {
        self.emit(ALU64 | MOV | K, dst, 0, 0, imm);
    }

    pub(super) fn add(&mut self, dst: Reg, src: Reg) {
        self.emit(ALU64 | ADD | X, dst, src, 0, 0);
    }

    pub(super) fn add_imm(&mut self, dst: Reg, imm: i32) {
        self.emit(ALU64 | ADD | K, dst, 0, 0, imm);
    }

    pub(super) fn and_imm(&mut self, dst: Reg, imm: i32) {
        self.emit(ALU64 | AND | K, dst, 0, 0, imm);
    }

    pub(super) fn or(&mut self, dst: Reg, src: Reg) {
        self.emit(ALU64 | OR | X, dst, src, 0, 0);
    }

    pub(super) fn lsh_imm(&mut self, dst: Reg, imm: i32) {
        self.emit(ALU64 | LSH | K, dst, 0, 0, imm);
    }

    pub(super) fn rsh_imm(&mut self, dst: Reg, imm: i32) {
        self.emit(ALU64 | RSH | K, dst, 0, 0, imm);
    }

    pub(super) fn rsh(&mut self, dst: Reg, src: Reg) {
        self.emit(ALU64 | RSH | X, dst, src, 0, 0);
    }

    /// `if reg <cond> imm: goto to`.
    pub(super) fn jump_if(&mut self, cond: If, reg: Reg, imm: i32, to: Label) {
        self.jumps.push((self.code.len(), to));
        self.emit(JMP | cond.code() | K, reg, 0, 0, imm);
    }

    /// `if (u32)reg <cond> imm: goto to`: the register's low 32 bits
    /// against the immediate's, so that a constant above `i32::MAX`
    /// (a file system's magic number, a descriptor bound) is not
    /// sign-extended as a 64-bit comparison would.
    pub(super) fn jump32_if(&mut self, cond: If, reg: Reg, imm: u32, to: Label) {
        self.jumps.push((self.code.len(), to));
        self.emit(JMP32 | cond.code() | K, reg, 0, 0, imm as i32);
    }

    pub(super) fn jump(&mut self, to: Label) {
        self.jumps.push((self.code.len(), to));
        self.emit(JMP | JA, 0, 0, 0, 0);
    }

    /// Calls helper function number `helper`.
    pub(super) fn call(&mut self, helper: i32) {
        self.emit(JMP | CALL, 0, 0, 0, helper);
    }

    pub(super) fn exit(&mut self) {
        self.emit(JMP | EXIT, 0, 0, 0, 0);
    }

    /// The program's bytes, every jump pointed at its label; or why it
    /// cannot be built (a field of the wrong size, a label never put).
    pub(super) fn finish(mut self) -> Result<Vec<u8>, String> {
        for &(at, Label(label)) in &self.jumps {
            let Some(target) = self.labels[label] else {
                return Err(format!("label {label} never put"));
            };
            let off = i16::try_from(target as i64 - at as i64 - 1)
                .map_err(|_| format!("jump {at} out of reach"))?;
            self.code[at][2..4].copy_from_slice(&off.to_le_bytes());
        }
        match self.error {
            Some(why) => Err(why),
            None => Ok(self.code.concat()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(size: u32) -> Field {
        Field {
            strukt: "task_struct",
            member: "tgid",
            offset: 1000,
            size,
        }
    }

    #[test]
    fn jumps_go_to_their_labels_forward_and_back() {
        let mut a = Asm::new();
        let (top, out) = (a.label(), a.label());
        a.put(top);
        a.jump_if(If::Eq, R1, 0, out); // 0 -> 3
        a.mov_imm(R0, 1); // 1
        a.jump(top); // 2 -> 0
        a.put(out);
        a.exit(); // 3
        let code = a.finish().expect("built");
        let off = |at: usize| i16::from_le_bytes([code[8 * at + 2], code[8 * at + 3]]);
        assert_eq!((off(0), off(2)), (2, -3));
        assert_eq!(&code[0..2], &[0x15, 0x01], "JEQ r1, imm");
        assert_eq!(code[3 * 8], 0x95, "EXIT");
    }

    #[test]
    fn a_label_never_put_or_put_twice_fails() {
        let mut a = Asm::new();
        let out = a.label();
        a.jump(out);
        assert!(a.finish().is_err());
        let mut a = Asm::new();
        let here = a.label();
        a.put(here);
        a.put(here);
        assert!(a.finish().is_err());
    }

    #[test]
    fn a_field_read_at_another_width_fails_with_its_name() {
        let mut a = Asm::new();
        a.load_field(Width::W, R4, R8, field(4));
        a.exit();
        let code = a.finish().expect("u32 read as u32");
        assert_eq!(
            &code[0..4],
            &[0x61, 0x84, 0xe8, 0x03],
            "LDX_W r4, [r8 + 1000]"
        );
        let mut a = Asm::new();
        a.load_field(Width::W, R4, R8, field(8));
        let why = a.finish().expect_err("u64 read as u32");
        assert!(why.contains("task_struct.tgid"), "{why}");
        let mut a = Asm::new();
        a.load_field(
            Width::W,
            R4,
            R8,
            Field {
                offset: 40_000,
                ..field(4)
            },
        );
        assert!(a.finish().is_err(), "out of a load's reach");
    }
}
