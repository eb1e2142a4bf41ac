-- Database, application user and test-database grants for a MySQL/MariaDB server.
-- Run once as an administrator: mariadb -u root < mysql-init/init.sql
-- (docker-compose mounts this folder at /docker-entrypoint-initdb.d).
-- Change the password for anything but local development and CI.

CREATE DATABASE IF NOT EXISTS sudamall CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE USER IF NOT EXISTS 'sudamall'@'localhost' IDENTIFIED BY 'sudamall';
CREATE USER IF NOT EXISTS 'sudamall'@'%' IDENTIFIED BY 'sudamall';

GRANT ALL PRIVILEGES ON sudamall.* TO 'sudamall'@'localhost';
GRANT ALL PRIVILEGES ON sudamall.* TO 'sudamall'@'%';

-- pytest-django creates test_sudamall, and test_sudamall_gw0, _gw1... under pytest-xdist;
-- the integration tests create sudamall_it_* databases for the processes they start.
GRANT ALL PRIVILEGES ON `test\_sudamall%`.* TO 'sudamall'@'localhost';
GRANT ALL PRIVILEGES ON `test\_sudamall%`.* TO 'sudamall'@'%';
GRANT ALL PRIVILEGES ON `sudamall\_it\_%`.* TO 'sudamall'@'localhost';
GRANT ALL PRIVILEGES ON `sudamall\_it\_%`.* TO 'sudamall'@'%';

FLUSH PRIVILEGES;
