#!/usr/bin/ruby
# The driver matrix's scenario for Ruby, the stack Mastodon runs on: the pg gem with named
# prepared statements (`pg`), or ActiveRecord with prepared_statements true or false
# (`activerecord-prepared`, `activerecord-unprepared`).
#
# Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE;
# DRIVER_CLIENTS workers each run DRIVER_ROUNDS rounds. Exit status 0: every check passed;
# 77: the gem is not installed; 1: a check failed.

ZONES = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Paris'].freeze
CHECK = "SELECT $1::int + $2::int, current_setting('TimeZone'), " \
        "current_setting('application_name')".freeze
INSERT = 'INSERT INTO driver_log (driver, worker, round) VALUES ($1, $2, $3)'.freeze

kind = ARGV.fetch(0)
begin
  if kind == 'pg'
    require 'pg'
  else
    require 'active_record'
  end
rescue LoadError => e
  package = kind == 'pg' ? 'ruby-pg' : 'ruby-activerecord'
  puts "SKIP: #{kind} is not installed (#{e.message}); apt-get install #{package}"
  exit 77
end

clients = Integer(ENV.fetch('DRIVER_CLIENTS', '50'))
rounds = Integer(ENV.fetch('DRIVER_ROUNDS', '20'))
errors = Queue.new

def check_row(got, want, name, round)
  return if got == want

  raise "round #{round}: got #{got.inspect}, want #{want.inspect}"
end

if kind == 'pg'
  work = lambda do |i, name, zone|
    conn = PG.connect(application_name: name)
    conn.exec("SET TIME ZONE '#{zone}'")
    conn.prepare('check', CHECK)
    conn.prepare('insert', INSERT)
    rounds.times do |r|
      check_row(conn.exec_prepared('check', [i, r]).values.first, [(i + r).to_s, zone, name],
                name, r)
      conn.transaction { conn.exec_prepared('insert', [kind, i, r]) }
    end
    conn.close
  end
else
  prepared = kind == 'activerecord-prepared'
  ActiveRecord::Base.establish_connection(
    adapter: 'postgresql', host: ENV['PGHOST'], port: ENV['PGPORT'], username: ENV['PGUSER'],
    password: ENV['PGPASSWORD'], database: ENV['PGDATABASE'], pool: clients,
    # A statement cache of 1 makes ActiveRecord evict, with SQL DEALLOCATE, all the time.
    prepared_statements: prepared, statement_limit: 1
  )
  log_model = Class.new(ActiveRecord::Base) { self.table_name = 'driver_log' }
  int = ActiveRecord::Type::Integer.new
  text = ActiveRecord::Type::String.new
  bind = ->(value, type) { ActiveRecord::Relation::QueryAttribute.new('v', value, type) }
  work = lambda do |i, name, zone|
    ActiveRecord::Base.connection_pool.with_connection do |conn|
      conn.execute("SET TIME ZONE '#{zone}'")
      conn.execute("SET application_name = '#{name}'")
      rounds.times do |r|
        row = conn.exec_query(CHECK, 'check', [bind.call(i, int), bind.call(r, int)],
                              prepare: true).rows.first
        check_row(row.map(&:to_s), [(i + r).to_s, zone, name], name, r)
        conn.transaction do
          conn.exec_query(INSERT, 'insert',
                          [bind.call(kind, text), bind.call(i, int), bind.call(r, int)],
                          prepare: true)
        end
        # A model query: ActiveRecord's own statement cache and binds.
        count = log_model.where(driver: kind, worker: i).count
        raise "round #{r}: #{count} rows logged, want #{r + 1}" unless count == r + 1
      end
    end
  end
end

threads = Array.new(clients) do |i|
  Thread.new do
    name = "#{kind}-#{i}"
    work.call(i, name, ZONES[i % ZONES.size])
  rescue StandardError => e
    errors << "#{name}: #{e.class}: #{e.message}"
  end
end
threads.each(&:join)
failures = []
failures << errors.pop until errors.empty?
failures.first(20).each { |e| puts "FAIL: #{e}" }
exit 1 unless failures.empty?
puts "OK: #{kind}, #{clients} clients x #{rounds} rounds"
