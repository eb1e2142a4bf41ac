"""What the bench scripts share: a MariaDB connection allowed to create their own database."""

import sys
from typing import Any


def admin_connection(url: Any, database: str) -> Any:
    """A MariaDB connection that may create ``database``: the app user if it may, else root
    without a password (a local server set up by mysql-init/init.sql), which then grants the app
    user all on it."""
    import MySQLdb

    host, port = url.hostname or "127.0.0.1", url.port or 3306
    conn = MySQLdb.connect(host=host, port=port, user=url.username, password=url.password or "")
    try:
        conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        return conn
    except MySQLdb.OperationalError:
        conn.close()
    try:
        conn = MySQLdb.connect(host=host, port=port, user="root", password="")
    except MySQLdb.OperationalError:
        sys.exit(
            f"can't create {database} as {url.username} or root@{host}; as an administrator: "
            f"CREATE DATABASE {database}; GRANT ALL ON {database}.* TO '{url.username}'@'%';"
        )
    cursor = conn.cursor()
    cursor.execute("SELECT Host FROM mysql.user WHERE User = %s", [url.username])
    for (client,) in cursor.fetchall():
        cursor.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@%s", [url.username, client])
    return conn
