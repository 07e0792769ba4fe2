# Judges a patched ERB view with Ruby's own ERB: usage
#   ruby erb_view.rb BASE PATCHED [render]
# Prints JSON: the tag kinds of both (split as Erubi, Rails' engine, splits
# them: a tag ends at the first `%>`), whether the compiled Ruby is valid,
# and with `render` the view's output under a stub binding in which
# `global_config[...]` is nil (so the `|| 'Name'` fallbacks show).
require "erb"
require "json"

def kinds(text)
  text.scan(/<%(={1,2}|-|\#|%)?(.*?)([-=])?%>/m).map { |m| m[0].to_s }
end

# Answers every helper with itself; shows as nothing.
class Stub
  def method_missing(*) = self
  def respond_to_missing?(*) = true
  def [](*) = nil
  def to_s = ""
end

# ActiveSupport's marker, a no-op here.
class String
  def html_safe = self
end

module Chatwoot
  def self.config = { version: "3.15.0" }
end

module ChatwootApp
  def self.enterprise? = false
end

module ChatwootHub
  def self.installation_identifier = "installation-id"
  def self.pricing_plan = "community"
end

# The super-admin settings alert shows, so its text is rendered too.
module Redis
  module Alfred
    CHATWOOT_INSTALLATION_CONFIG_RESET_WARNING = "reset-warning"
    def self.get(*) = true
  end
end

# The binding a view renders in: Rails helpers the fixtures call.
class View < Stub
  def initialize
    @resource = Stub.new
    @global_config = { "DISPLAY_MANIFEST" => true }
  end
  def global_config = {}
  def link_to(body, *) = body.to_s
  def image_tag(src, opts = {}) = %(<img src="#{src}" alt="#{opts[:alt]}">)
  def render(*) = ""
  def get_binding = binding
  # Rails constants (I18n, ENV helpers) answer as stubs too.
  def self.const_missing(*) = Stub.new
end

base, patched, mode = ARGV
base_text = File.read(base)
text = File.read(patched)
out = { "base_kinds" => kinds(base_text), "kinds" => kinds(text) }
# Plain ERB lacks Rails' `<%= helper do %>` blocks: a view that never
# compiled here is judged by its tags only (`base_compiles` false).
def compiles(text)
  RubyVM::InstructionSequence.compile(ERB.new(text, trim_mode: "-").src)
  [true, nil]
rescue SyntaxError => e
  [false, e.message]
end
out["base_compiles"], = compiles(base_text)
out["compiles"], out["error"] = compiles(text)
if mode == "render" && out["compiles"]
  out["rendered"] = ERB.new(text, trim_mode: "-").result(View.new.get_binding)
end
puts JSON.generate(out)
