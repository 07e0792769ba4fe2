# What Chatwoot (Rails 7.0) does with installation_configs.serialized_value,
# with Ruby's own Psych and ActiveSupport, for tests/apply_config.rs:
#
#   ruby installation_config.rb seed FILE   ConfigLoader on a fresh install: one
#                                           [name, serialized YAML, locked] per entry
#   ruby installation_config.rb decode      stdin: {"NAME": <jsonb value>, ...};
#                                           stdout: {"NAME": InstallationConfig#value}
require 'json'
require 'yaml'
require 'active_support'
require 'active_support/hash_with_indifferent_access'

HWIA = ActiveSupport::HashWithIndifferentAccess

# ActiveRecord::Coders::YAMLColumn#dump for `serialize :serialized_value, HWIA`
def dump(value)
  YAML.dump(HWIA.new(value: value))
end

# ActiveRecord::Coders::YAMLColumn#load (7.0, safe_load with the permitted
# class from config/application.rb), then InstallationConfig#value.
def value_of(stored)
  # Payloads that are not YAML documents come back as they are.
  return stored[:value] unless stored.is_a?(String) && stored.start_with?('---')

  obj = YAML.safe_load(stored, permitted_classes: [HWIA], aliases: true)
  raise ActiveRecord::SerializationTypeMismatch, obj.class.name unless obj.nil? || obj.is_a?(HWIA)

  (obj || HWIA.new)[:value]
end

case ARGV[0]
when 'seed'
  rows = YAML.safe_load(File.read(ARGV[1])).map do |c|
    c = HWIA.new(c)
    # InstallationConfig#set_lock: nil means locked
    [c[:name], dump(c[:value]), c[:locked].nil? ? true : c[:locked]]
  end
  puts JSON.generate(rows)
when 'decode'
  input = JSON.parse($stdin.read)
  puts JSON.generate(input.transform_values { |v| value_of(v) })
else
  abort 'usage: installation_config.rb seed FILE | decode'
end
