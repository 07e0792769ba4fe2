# Every string literal of a Ruby file, as Ruby reads it: usage
#   ruby rb_strings.rb FILE
# Prints JSON {"strings": [...]} or exits 1 with the syntax error. Literals
# are cut out with Ripper and evaluated alone (only plain literals: one with
# interpolation is reported as such, never run).
require "ripper"
require "json"

src = File.read(ARGV[0])
begin
  RubyVM::InstructionSequence.compile(src)
rescue SyntaxError => e
  warn e.message
  exit 1
end
strings = []
current = nil
joined = false
adjacent = false # only spaces since the last literal ended: Ruby joins them
Ripper.lex(src).each do |(_, kind, tok)|
  case kind
  when :on_tstring_beg
    joined = adjacent
    current = +tok
  when :on_tstring_end
    next unless current
    current << tok
    value = current.include?("\#{") && current.start_with?('"') ? "<interpolated>" : eval(current)
    joined ? strings[-1] += value : strings << value
    current = nil
    adjacent = true
    next
  when :on_embexpr_beg then current = nil
  when :on_sp then next if current.nil? && adjacent
  else current << tok if current
  end
  adjacent = false unless kind == :on_tstring_beg
end
puts JSON.generate("strings" => strings)
