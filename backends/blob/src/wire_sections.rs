//! Byte encoding of the Landlock, limits and D-Bus sections (types defined in
//! [`crate::landlock`], [`crate::limits`] and [`crate::dbus`]).

use crate::dbus::{BusAccess, BusKind, BusRoute, DbusSection};
use crate::landlock::{
    fs_access, FsLayer, FsRule, FsTarget, LandlockSection, NetLayer, Ports, Requirement, ScopeLayer,
};
use crate::limits::{LimitsSection, RANGES};
use crate::mounts::{Condition, PathExpr};
use crate::wire::{malformed, DecodeError, Reader, Wire, Writer};

impl Wire for Requirement {
    fn put(&self, w: &mut Writer) {
        w.u8(match self {
            Requirement::BestEffort => 0,
            Requirement::Required => 1,
        });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.tag(2)? {
            0 => Requirement::BestEffort,
            _ => Requirement::Required,
        })
    }
}

impl Wire for FsTarget {
    fn put(&self, w: &mut Writer) {
        match self {
            FsTarget::Path { path } => {
                w.u8(0);
                path.put(w);
            }
            FsTarget::Entries { dir, except } => {
                w.u8(1);
                dir.put(w);
                w.list(except);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.tag(2)? {
            0 => FsTarget::Path {
                path: PathExpr::get(r)?,
            },
            _ => FsTarget::Entries {
                dir: PathExpr::get(r)?,
                except: r.list()?,
            },
        })
    }
}

impl Wire for FsRule {
    fn put(&self, w: &mut Writer) {
        self.target.put(w);
        w.u64(self.access);
        w.option(&self.condition);
        w.list(&self.masked);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let target = FsTarget::get(r)?;
        let access = r.u64()?;
        if access & !fs_access::ALL != 0 {
            return Err(malformed(
                r.what(),
                format!("unknown access bits {access:#x}"),
            ));
        }
        Ok(FsRule {
            target,
            access,
            condition: r.option::<Condition>()?,
            masked: r.list()?,
        })
    }
}

impl Wire for FsLayer {
    fn put(&self, w: &mut Writer) {
        self.level.put(w);
        w.list(&self.rules);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FsLayer {
            level: Requirement::get(r)?,
            rules: r.list()?,
        })
    }
}

impl Wire for Ports {
    fn put(&self, w: &mut Writer) {
        w.u16(self.first);
        w.u16(self.last);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ports = Ports {
            first: r.u16()?,
            last: r.u16()?,
        };
        if ports.first > ports.last {
            return Err(malformed(r.what(), "port range runs backwards"));
        }
        Ok(ports)
    }
}

impl Wire for NetLayer {
    fn put(&self, w: &mut Writer) {
        self.level.put(w);
        w.list(&self.connect);
        w.list(&self.bind);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(NetLayer {
            level: Requirement::get(r)?,
            connect: r.list()?,
            bind: r.list()?,
        })
    }
}

impl Wire for ScopeLayer {
    fn put(&self, w: &mut Writer) {
        self.level.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ScopeLayer {
            level: Requirement::get(r)?,
        })
    }
}

impl Wire for LandlockSection {
    fn put(&self, w: &mut Writer) {
        w.option(&self.fs);
        w.option(&self.net);
        w.option(&self.scope_abstract_unix);
        w.option(&self.scope_signal);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(LandlockSection {
            fs: r.option()?,
            net: r.option()?,
            scope_abstract_unix: r.option()?,
            scope_signal: r.option()?,
        })
    }
}

impl Wire for LimitsSection {
    fn put(&self, w: &mut Writer) {
        self.level.put(w);
        w.option(&self.memory);
        w.option(&self.processes);
        w.option(&self.open_files);
        w.option(&self.cpu_time);
        w.option(&self.cpu_share);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let section = LimitsSection {
            level: Requirement::get(r)?,
            memory: r.option()?,
            processes: r.option()?,
            open_files: r.option()?,
            cpu_time: r.option()?,
            cpu_share: r.option()?,
        };
        for ((name, value), (_, low, high)) in section.named().into_iter().zip(RANGES) {
            if let Some(v) = value.filter(|v| !(low..=high).contains(v)) {
                return Err(malformed(
                    r.what(),
                    format!("{name} {v} is outside {low}..={high}"),
                ));
            }
        }
        Ok(section)
    }
}

impl Wire for BusRoute {
    fn put(&self, w: &mut Writer) {
        w.u8(match self.bus {
            BusKind::Session => 0,
            BusKind::System => 1,
            BusKind::Accessibility => 2,
        });
        match &self.access {
            BusAccess::Direct => w.u8(0),
            BusAccess::Proxy { args } => {
                w.u8(1);
                w.list(args);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bus = match r.tag(3)? {
            0 => BusKind::Session,
            1 => BusKind::System,
            _ => BusKind::Accessibility,
        };
        let access = match r.tag(2)? {
            0 => BusAccess::Direct,
            _ => BusAccess::Proxy { args: r.list()? },
        };
        Ok(BusRoute { bus, access })
    }
}

impl Wire for DbusSection {
    fn put(&self, w: &mut Writer) {
        w.list(&self.routes);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let routes: Vec<BusRoute> = r.list()?;
        if routes.windows(2).any(|pair| pair[0].bus >= pair[1].bus) {
            return Err(malformed(r.what(), "routes out of order or repeated"));
        }
        if routes
            .iter()
            .any(|route| route.bus == BusKind::Accessibility && route.access == BusAccess::Direct)
        {
            return Err(malformed(
                r.what(),
                "the accessibility bus cannot be direct",
            ));
        }
        Ok(DbusSection { routes })
    }
}
