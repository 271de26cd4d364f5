// The driver matrix's scenario for Java: pgJDBC with its default prepareThreshold (5), so
// each worker's statements become named server-side prepared statements ("S_1", ...)
// after five executions. Run as a single-file program:
//   java -cp /usr/share/java/postgresql.jar JdbcDriver.java
// Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE;
// DRIVER_CLIENTS workers each run DRIVER_ROUNDS rounds. Exit status 0: every check passed;
// 77: the driver is not on the class path; 1: a check failed.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

public class JdbcDriver {
    static final String[] ZONES = {"UTC", "Asia/Tokyo", "America/New_York", "Europe/Paris"};

    public static void main(String[] args) throws Exception {
        try {
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            System.out.println("SKIP: pgJDBC is not installed; apt-get install libpostgresql-jdbc-java");
            System.exit(77);
        }
        final String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT")
                + "/" + System.getenv("PGDATABASE");
        final int clients = Integer.parseInt(System.getenv().getOrDefault("DRIVER_CLIENTS", "50"));
        final int rounds = Integer.parseInt(System.getenv().getOrDefault("DRIVER_ROUNDS", "20"));
        final List<String> errors = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < clients; w++) {
            final int i = w;
            Thread t = new Thread(() -> {
                String name = "jdbc-" + i;
                String zone = ZONES[i % ZONES.length];
                Properties p = new Properties();
                p.setProperty("user", System.getenv("PGUSER"));
                p.setProperty("password", System.getenv("PGPASSWORD"));
                p.setProperty("ApplicationName", name);
                try (Connection c = DriverManager.getConnection(url, p)) {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET TIME ZONE '" + zone + "'");
                    }
                    PreparedStatement check = c.prepareStatement(
                            "SELECT ?::int + ?::int, current_setting('TimeZone'),"
                                    + " current_setting('application_name')");
                    PreparedStatement insert = c.prepareStatement(
                            "INSERT INTO driver_log (driver, worker, round) VALUES ('jdbc', ?, ?)");
                    for (int r = 0; r < rounds; r++) {
                        check.setInt(1, i);
                        check.setInt(2, r);
                        try (ResultSet rs = check.executeQuery()) {
                            rs.next();
                            String got = rs.getInt(1) + "|" + rs.getString(2) + "|" + rs.getString(3);
                            String want = (i + r) + "|" + zone + "|" + name;
                            if (!got.equals(want)) {
                                errors.add(name + " round " + r + ": got " + got + ", want " + want);
                                return;
                            }
                        }
                        c.setAutoCommit(false);
                        insert.setInt(1, i);
                        insert.setInt(2, r);
                        insert.executeUpdate();
                        c.commit();
                        c.setAutoCommit(true);
                    }
                } catch (Exception e) {
                    errors.add(name + ": " + e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        synchronized (errors) {
            for (int k = 0; k < Math.min(20, errors.size()); k++) {
                System.out.println("FAIL: " + errors.get(k));
            }
        }
        if (!errors.isEmpty()) {
            System.exit(1);
        }
        System.out.println("OK: jdbc, " + clients + " clients x " + rounds + " rounds");
    }
}
