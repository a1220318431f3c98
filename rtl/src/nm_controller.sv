// Tiles a whole GEMM over the array (rtl/README.md, "Folds" and "Timeline").
//
// Work is a sequence of folds: for each token tile (the tail tile first, then full tiles of cfg_tile_tokens), for
// each channel tile of Cols output channels, for each of cfg_k_folds folds along K. A fold puts up to Rows slots
// of every channel of the tile into the array and streams the tile's tokens through it.
//
// Time is cut into windows, one per fold, plus one before the first. In the window of fold f, counting its cycles
// w = 0, 1, ..., the controller
//   - streams fold f's tokens, token w read from the activation bank of f at cycle w (w < T(f));
//   - accepts fold f+1's weight stream from the memory port (beats 0..B-1, whenever the port delivers one:
//     mem_ready_o is high from w = 0 until the last beat is in) and its activations (tokens 0..T(f+1)-1, at w)
//     into the other banks;
//   - starts the loader at Ls = max(Cols - 3, the cycle of the last beat): it reads fold f+1's header (Ls + 1) and
//     rows (row r at Ls + 2 + r), and writes row r into the array's shadow slots at Ls + 3 + r, after row r swapped
//     in fold f's slots (w = r) and before it swaps in fold f+1's (w = P + r);
//   - ends the window after cycle P - 1, P = max(T(f), T(f+1), Rows + 1, Cols + 1, Ls + 1 + LoadTail): a port
//     that keeps up leaves P as it was without a memory system, a slow one stretches the window (a stall);
//   - if fold f ends its channel tile, schedules the tile's drain at cycle T(f) + Rows + 1 of the window, the
//     first cycle after fold f's last sum has been accumulated.
// core/src/engines/fpga/systolic_array.cpp (model_cycles) counts the same windows; the two must agree cycle for cycle.
module nm_controller #(
  parameter int Rows  = 16,
  parameter int Cols  = 16,
  parameter int TokenDepth = 256
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          start_i,
  input  logic [31:0]                   cfg_tokens_i,
  input  logic [15:0]                   cfg_tile_tokens_i,
  input  logic [15:0]                   cfg_first_tile_tokens_i,
  input  logic [31:0]                   cfg_channel_tiles_i,
  input  logic [31:0]                   cfg_k_folds_i,
  input  logic [31:0]                   cfg_chunk_folds_i,  // folds per scale group (the last group may have fewer)
  input  logic [31:0]                   cfg_fold_rows_i,    // slots of a full fold: floor(Rows / N) * N
  input  logic [31:0]                   cfg_chunk_slots_i,  // slots under one scale
  input  logic [31:0]                   cfg_row_slots_i,    // slots of a weight row
  input  logic [31:0]                   cfg_lane_slots_i,   // two scale groups per fold: slots of the first; else 0
  input  logic [15:0]                   header_bits_i,      // a fold stream's header (first fold of a scale group)
  input  logic [15:0]                   row_bits_i,         // one row of a fold stream: Cols fields
  // memory port: a beat is taken when both are high
  output logic                          mem_ready_o,
  input  logic                          mem_valid_i,
  output logic                          busy_o,
  // token injection (activation buffer read; the data arrives one cycle later with inject_*_q_o)
  output logic                          inject_read_o,
  output logic                          inject_bank_o,
  output logic [$clog2(TokenDepth)-1:0]      inject_token_o,
  output logic                          inject_valid_q_o,
  output logic                          inject_first_q_o,
  output logic                          inject_swap_o,     // the read of a fold's first token: PEs swap slots
  // fills of the next fold
  output logic                          weight_fill_o,
  output logic                          weight_fill_bank_o,
  output logic [7:0]                    weight_fill_beat_o,
  output logic                          act_fill_o,
  output logic                          act_fill_bank_o,
  output logic [2:0]                    act_fill_scale_bank_o,
  output logic [$clog2(TokenDepth)-1:0]      act_fill_token_o,
  // loader: weight buffer reads, and what the word read in the previous cycle is
  output logic                          load_read_o,
  output logic                          load_read_bank_o,
  output logic [$clog2(Rows+2)-1:0]     load_read_word_o,  // 0: header, (1: second header,) then rows
  output logic                          load_header_o,        // the fold being loaded opens with a header
  output logic [$clog2(Rows+1)-1:0]     load_rows_o,          // rows of the fold being loaded (the rest load zero)
  output logic                          load_header_q_o,
  output logic                          load_second_header_q_o,  // the second scale group's header arrived
  output logic                          load_second_o,           // the fold being loaded holds a second group
  output logic [2:0]                    load_fold_flags_q_o,  // {first chunk of the tile, chunk starts, chunk ends}
  output logic                          load_acc_bank_q_o,
  output logic                          load_row_valid_q_o,
  output logic [$clog2(Rows+1)-1:0]     load_row_q_o,
  // drain of a finished channel tile: one token per cycle
  output logic                          drain_o,
  output logic                          drain_bank_o,
  output logic [2:0]                    drain_scale_bank_o,
  output logic [$clog2(TokenDepth)-1:0]      drain_token_o,
  output logic [31:0]                   drain_token_base_o,
  output logic [31:0]                   drain_channel_tile_o
);
  localparam int TokenW = $clog2(TokenDepth);
  localparam int RowIdxW = $clog2(Rows + 1);
  localparam int WordW = $clog2(Rows + 2);
  localparam logic [31:0] MinWindow = 32'((Rows > Cols ? Rows : Cols) + 1);
  // Cycles from the loader's start to the window's last: its row r reaches the shadows (Ls + 3 + r) before the
  // swap of the next window (P + r), and its last read (Ls + 1 + Rows) comes before the next loader starts
  // (P + Cols - 3 at the earliest).
  localparam logic [31:0] LoadTail = 32'(Rows - Cols + 3 > 3 ? Rows - Cols + 3 : 3);
  localparam int BeatW = nm_accel_pkg::BeatW;

  // The loader starts at window cycle Cols - 3; windows and tokens are counted in 16 bits; the token index is the
  // low address bits of a bank.
  if (Rows < 1 || Cols < 3 || (Rows > Cols ? Rows : Cols) + 1 > 65535) begin : g_check_shape
    $error("nm_controller: needs Rows >= 1, Cols >= 3 and a window of max(Rows, Cols) + 1 cycles in 16 bits");
  end
  if (TokenDepth < 2 || TokenDepth > 32768 || (TokenDepth & (TokenDepth - 1)) != 0) begin : g_check_depth
    $error("nm_controller: TokenDepth must be a power of two, 2..32768");
  end

  // A fold, as the iterator hands it out.
  typedef struct packed {
    logic [15:0] tokens;
    logic [RowIdxW-1:0] rows;  // slots of this fold (the last of a scale group may hold fewer)
    logic        second;       // two scale groups per fold, and this one reaches into the second
    logic [7:0]  beats;        // its stream's beats: the header (if chunk_first) and `rows` rows, padded
    logic        first_chunk;  // in the tile's first scale group: the fp32 accumulators start from zero
    logic        chunk_first;  // first fold of its scale group: the integer accumulators start from zero
    logic        chunk_last;   // last fold of its scale group: the integer sum is dequantized
    logic        last_fold;    // last fold of its channel tile: the tile drains after it
    logic        acc_bank;     // channel tile parity
    logic [2:0]  scale_bank;   // token tile index mod 8 (rtl/README.md, "Memories": why eight banks)
    logic [31:0] token_base;
    logic [31:0] channel_tile;
  } fold_t;

  // Iterator over folds.
  logic        it_valid_q;
  logic [15:0] it_tokens_q;
  logic [31:0] it_token_base_q, it_channel_tile_q, it_fold_q, it_chunk_fold_q;
  logic [31:0] it_slot_q, it_chunk_end_q;  // the fold's first slot, the end of its scale group's slots
  logic        it_acc_bank_q;
  logic [2:0]  it_scale_bank_q;
  fold_t       it_fold;
  logic [31:0] it_rows, it_stream_bits, first_chunk_end;

  assign first_chunk_end = cfg_chunk_slots_i < cfg_row_slots_i ? cfg_chunk_slots_i : cfg_row_slots_i;
  assign it_rows = it_chunk_end_q - it_slot_q < cfg_fold_rows_i ? it_chunk_end_q - it_slot_q : cfg_fold_rows_i;
  logic        lane_mode, it_second;
  logic [31:0] load_tail;
  assign lane_mode = cfg_lane_slots_i != 0;
  // A second header word for the loader: one cycle more from its start to the window's end.
  assign load_tail = LoadTail + 32'(lane_mode);
  assign it_second = lane_mode && it_rows > cfg_lane_slots_i;
  assign it_stream_bits = (it_chunk_fold_q == 0 ? {16'd0, header_bits_i} : 32'd0) +
                          (it_second ? {16'd0, header_bits_i} : 32'd0) + it_rows * {16'd0, row_bits_i};

  // Field order of fold_t.
  assign it_fold = {it_tokens_q, RowIdxW'(it_rows), it_second, 8'((it_stream_bits + 32'(BeatW - 1)) >> $clog2(BeatW)),
                    it_fold_q < cfg_chunk_folds_i, it_chunk_fold_q == 0,
                    it_chunk_fold_q == cfg_chunk_folds_i - 1 || it_fold_q == cfg_k_folds_i - 1,
                    it_fold_q == cfg_k_folds_i - 1, it_acc_bank_q, it_scale_bank_q, it_token_base_q, it_channel_tile_q};

  // Windows.
  logic        running_q, prime_q;
  logic [31:0] window_cycle_q, window_length_q;
  logic        current_valid_q, next_valid_q;
  fold_t       current_q, next_q;
  logic        parity_q;  // bank of the current fold; the next fold uses the other
  logic        advance, loaded;
  logic [31:0] length_a, length_b, new_length;

  // Memory port: beats of the next fold's stream taken so far; the stream is complete when all are in.
  logic [7:0]  fill_beats_q;
  logic        beat_taken, fill_complete;

  // Loader.
  logic          load_active_q, load_bank_q, load_acc_bank_q, load_started_q, load_header_q;
  logic [2:0]    load_fold_flags_q;
  logic [WordW-1:0]   load_word_q;
  logic [RowIdxW-1:0] load_rows_q;
  logic               load_second_q;
  logic [31:0]   load_start_q;  // the window cycle the loader started in (Ls)
  logic          load_start;

  // A window ends once its static length is reached and, if a fold follows, the loader has run far enough.
  assign loaded    = !next_valid_q || (load_started_q && window_cycle_q >= load_start_q + load_tail);
  assign advance   = prime_q || (running_q && window_cycle_q >= window_length_q - 1 && loaded);
  assign length_a  = next_valid_q && 32'(next_q.tokens) > MinWindow ? 32'(next_q.tokens) : MinWindow;
  assign length_b  = it_valid_q && 32'(it_tokens_q) > length_a ? 32'(it_tokens_q) : length_a;
  assign new_length = length_b;

  assign mem_ready_o   = running_q && !prime_q && next_valid_q && fill_beats_q < next_q.beats;
  assign beat_taken    = mem_ready_o && mem_valid_i;
  assign fill_complete = fill_beats_q + 8'(beat_taken) == next_q.beats;
  assign load_start    = running_q && !advance && next_valid_q && !load_started_q &&
                         window_cycle_q >= 32'(Cols - 3) && fill_complete;

  // Drain queue (start cycle + fold) and the drain in progress.
  localparam int DrainQueueDepth = 6;  // at most four drains are pending or running at once (rtl/README.md, "Timeline")
  logic [31:0]   now_q;
  logic [31:0]   drain_start_q [DrainQueueDepth];
  fold_t         drain_fold_q [DrainQueueDepth];
  logic [2:0]    drain_count_q;
  logic          drain_active_q;
  logic [TokenW-1:0] drain_next_q;
  fold_t         drain_current_q;
  logic          drain_begin, drain_push, drain_pop, drain_last;
  fold_t         drain_fold;
  logic [TokenW-1:0] drain_token;

  assign drain_push  = running_q && window_cycle_q == 0 && current_valid_q && current_q.last_fold;
  // Wrap-safe: runs longer than 2^32 cycles keep their drains in order.
  assign drain_begin = !drain_active_q && drain_count_q != 0 && $signed(now_q - drain_start_q[0]) >= 0;
  assign drain_fold  = drain_begin ? drain_fold_q[0] : drain_current_q;
  assign drain_token = drain_begin ? '0 : drain_next_q;
  assign drain_last  = (drain_begin || drain_active_q) && 32'(drain_token) == 32'(drain_fold.tokens) - 32'd1;
  assign drain_pop   = drain_last;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      prime_q <= 1'b0;
      it_valid_q <= 1'b0;
      current_valid_q <= 1'b0;
      next_valid_q <= 1'b0;
      load_active_q <= 1'b0;
      drain_count_q <= '0;
      drain_active_q <= 1'b0;
      inject_valid_q_o <= 1'b0;
      load_header_q_o <= 1'b0;
      load_second_header_q_o <= 1'b0;
      load_row_valid_q_o <= 1'b0;
    end else if (start_i) begin
      running_q <= 1'b1;
      prime_q <= 1'b1;
      it_valid_q <= cfg_tokens_i != 0;
      it_tokens_q <= cfg_first_tile_tokens_i;
      it_token_base_q <= '0;
      it_channel_tile_q <= '0;
      it_fold_q <= '0;
      it_chunk_fold_q <= '0;
      it_slot_q <= '0;
      it_chunk_end_q <= first_chunk_end;
      it_acc_bank_q <= 1'b0;
      it_scale_bank_q <= '0;
      current_valid_q <= 1'b0;
      next_valid_q <= 1'b0;
      parity_q <= 1'b0;
      window_cycle_q <= '0;
      window_length_q <= MinWindow;
      load_active_q <= 1'b0;
      load_started_q <= 1'b0;
      fill_beats_q <= '0;
      drain_count_q <= '0;
      drain_active_q <= 1'b0;
      now_q <= '0;
      inject_valid_q_o <= 1'b0;
      load_header_q_o <= 1'b0;
      load_second_header_q_o <= 1'b0;
      load_row_valid_q_o <= 1'b0;
    end else begin
      now_q <= now_q + 1;
      prime_q <= 1'b0;

      // Windows: the next fold becomes current, the iterator hands out the one after.
      if (advance) begin
        current_q <= next_q;
        current_valid_q <= next_valid_q;
        next_q <= it_fold;
        next_valid_q <= it_valid_q;
        parity_q <= ~parity_q;
        window_cycle_q <= '0;
        window_length_q <= new_length;
        fill_beats_q <= '0;
        load_started_q <= 1'b0;
        if (!next_valid_q && !it_valid_q) running_q <= 1'b0;
        if (it_valid_q) begin
          if (it_fold_q + 1 < cfg_k_folds_i) begin
            it_fold_q <= it_fold_q + 1;
            if (it_chunk_fold_q + 1 == cfg_chunk_folds_i) begin
              it_chunk_fold_q <= '0;
              it_slot_q <= it_chunk_end_q;
              it_chunk_end_q <= cfg_row_slots_i - it_chunk_end_q < cfg_chunk_slots_i
                                ? cfg_row_slots_i : it_chunk_end_q + cfg_chunk_slots_i;
            end else begin
              it_chunk_fold_q <= it_chunk_fold_q + 1;
              it_slot_q <= it_slot_q + cfg_fold_rows_i;
            end
          end else begin
            it_fold_q <= '0;
            it_chunk_fold_q <= '0;
            it_slot_q <= '0;
            it_chunk_end_q <= first_chunk_end;
            it_acc_bank_q <= ~it_acc_bank_q;
            if (it_channel_tile_q + 1 < cfg_channel_tiles_i) begin
              it_channel_tile_q <= it_channel_tile_q + 1;
            end else begin
              it_channel_tile_q <= '0;
              it_token_base_q <= it_token_base_q + {16'd0, it_tokens_q};
              it_scale_bank_q <= it_scale_bank_q + 3'd1;
              it_tokens_q <= cfg_tile_tokens_i;
              if (it_token_base_q + {16'd0, it_tokens_q} >= cfg_tokens_i) it_valid_q <= 1'b0;
            end
          end
        end
      end else begin
        if (running_q) window_cycle_q <= window_cycle_q + 1;
        if (beat_taken) fill_beats_q <= fill_beats_q + 8'd1;
      end

      inject_valid_q_o <= inject_read_o;
      inject_first_q_o <= window_cycle_q == 0;

      // Loader: started two cycles before the header read, once the fold's whole stream is in.
      if (load_start) begin
        load_active_q <= 1'b1;
        load_started_q <= 1'b1;
        load_start_q <= window_cycle_q;
        load_word_q <= '0;
        load_bank_q <= ~parity_q;
        load_header_q <= next_q.chunk_first;
        load_rows_q <= next_q.rows;
        load_second_q <= next_q.second;
        load_fold_flags_q <= {next_q.first_chunk, next_q.chunk_first, next_q.chunk_last};
        load_acc_bank_q <= next_q.acc_bank;
      end else if (load_active_q) begin
        load_word_q <= load_word_q + 1'b1;
        if (load_word_q == WordW'(Rows) + WordW'(lane_mode)) load_active_q <= 1'b0;
      end
      load_header_q_o <= load_active_q && load_word_q == '0;
      load_second_header_q_o <= load_active_q && lane_mode && load_word_q == WordW'(1);
      load_row_valid_q_o <= load_active_q && load_word_q > WordW'(lane_mode);
      load_row_q_o <= RowIdxW'(load_word_q - 1'b1 - WordW'(lane_mode));
      load_fold_flags_q_o <= load_fold_flags_q;
      load_acc_bank_q_o <= load_acc_bank_q;

      // Drains.
      if (drain_begin) begin
        drain_current_q <= drain_fold_q[0];
      end
      if (drain_begin || drain_active_q) begin
        drain_active_q <= !drain_last;
        drain_next_q <= drain_token + 1'b1;
      end
      if (drain_pop) begin
        for (int i = 0; i + 1 < DrainQueueDepth; i++) begin
          drain_start_q[i] <= drain_start_q[i+1];
          drain_fold_q[i] <= drain_fold_q[i+1];
        end
      end
      if (drain_push) begin
        drain_start_q[drain_pop ? drain_count_q - 1 : drain_count_q] <=
            now_q + {16'd0, current_q.tokens} + 32'(Rows + 1);
        drain_fold_q[drain_pop ? drain_count_q - 1 : drain_count_q] <= current_q;
      end
      drain_count_q <= drain_count_q + {2'd0, drain_push} - {2'd0, drain_pop};
    end
  end

  assign busy_o = running_q || load_active_q || drain_count_q != 0 || drain_active_q;

  assign inject_read_o  = running_q && !prime_q && current_valid_q && window_cycle_q < 32'(current_q.tokens);
  assign inject_swap_o  = inject_read_o && window_cycle_q == 0;
  assign inject_bank_o  = parity_q;
  assign inject_token_o = TokenW'(window_cycle_q);

  assign weight_fill_o      = beat_taken;
  assign weight_fill_bank_o = ~parity_q;
  assign weight_fill_beat_o = fill_beats_q;
  assign act_fill_o            = running_q && !prime_q && next_valid_q && window_cycle_q < 32'(next_q.tokens);
  assign act_fill_bank_o       = ~parity_q;
  assign act_fill_scale_bank_o = next_q.scale_bank;
  assign act_fill_token_o      = TokenW'(window_cycle_q);

  assign load_read_o      = load_active_q;
  assign load_read_bank_o = load_bank_q;
  assign load_read_word_o = load_word_q;
  assign load_second_o    = load_second_q;
  assign load_header_o    = load_header_q;
  assign load_rows_o      = load_rows_q;

  assign drain_o              = drain_begin || drain_active_q;
  assign drain_bank_o         = drain_fold.acc_bank;
  assign drain_scale_bank_o   = drain_fold.scale_bank;
  assign drain_token_o        = drain_token;
  assign drain_token_base_o   = drain_fold.token_base;
  assign drain_channel_tile_o = drain_fold.channel_tile;

`ifndef SYNTHESIS
  // ---- invariants of the schedule (rtl/README.md, "Timeline" and "Assertions"). Simulation only: Verilated with
  // --assert; Yosys defines SYNTHESIS.

  // The run's state: priming is a run's first cycle; a window outlasts its static length only while the memory
  // port or the loader holds it, and is never shorter than the loader and the activation fill need.
  a_prime_in_run: assert property (@(posedge clk_i) disable iff (!rst_ni) prime_q |-> running_q)
    else $error("nm_controller: priming outside a run");
  a_window_in_range: assert property (@(posedge clk_i) disable iff (!rst_ni)
      running_q && !prime_q |-> window_length_q >= MinWindow && (window_cycle_q < window_length_q || next_valid_q))
    else $error("nm_controller: window cycle %0d of %0d", window_cycle_q, window_length_q);
  // The port delivers only when asked, and a fold's stream never exceeds what the bank holds.
  a_beat_asked: assert property (@(posedge clk_i) disable iff (!rst_ni) mem_valid_i |-> mem_ready_o)
    else $error("nm_controller: a beat arrived while the port was not ready");

  // The drain queue: a push always finds room (DrainQueueDepth covers the drains that can be pending), a pop
  // always has an entry.
  a_drain_queue_room: assert property (@(posedge clk_i) disable iff (!rst_ni)
      drain_push && !drain_pop |-> 32'(drain_count_q) < DrainQueueDepth)
    else $error("nm_controller: drain queue full (%0d entries)", drain_count_q);
  a_drain_pop_queued: assert property (@(posedge clk_i) disable iff (!rst_ni) drain_pop |-> drain_count_q != 0)
    else $error("nm_controller: drain finished with an empty queue");

  // The weight bank the port fills is the one the loader reads (the next fold's); the loader starts only once the
  // fold's whole stream is in, so the two never meet.
  a_load_word_in_range: assert property (@(posedge clk_i) disable iff (!rst_ni)
      load_active_q |-> 32'(load_word_q) <= Rows + 32'(lane_mode))
    else $error("nm_controller: loader at word %0d", load_word_q);
  a_loader_after_fill: assert property (@(posedge clk_i) disable iff (!rst_ni)
      weight_fill_o && load_read_o |-> weight_fill_bank_o != load_read_bank_o)
    else $error("nm_controller: loader reads the weight bank the port is filling");

  // Tokens stream from one activation bank while the DMA fills the other.
  a_inject_apart_from_fill: assert property (@(posedge clk_i) disable iff (!rst_ni)
      inject_read_o && act_fill_o |-> inject_bank_o != act_fill_bank_o)
    else $error("nm_controller: activation bank read and written at once");

  // A drain reads its token tile's scales; the DMA may rewrite that bank only with the same tile's scales (the
  // next channel tile's folds), never with another tile's (eight banks keep them apart).
  a_scale_bank_kept: assert property (@(posedge clk_i) disable iff (!rst_ni)
      drain_o && act_fill_o && drain_scale_bank_o == act_fill_scale_bank_o |->
      drain_fold.token_base == next_q.token_base)
    else $error("nm_controller: token scales of bank %0d overwritten while draining", drain_scale_bank_o);
`endif


endmodule
